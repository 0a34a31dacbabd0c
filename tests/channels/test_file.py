"""The file channel: the carrier's dispute file as CSV and XLSX (read back with openpyxl)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from recoup.carriers.registry import REGISTRY
from recoup.channels.base import ChannelConfig, ClaimPacket
from recoup.channels.file import FileChannel
from recoup.channels.registry import channel_for

NOW = dt.datetime(2026, 11, 16, 9, 30, 5, tzinfo=dt.UTC)
UPS_HEADERS = ["Account Number", "Invoice Number", "Tracking Number", "Ship Date", "Dispute Reason Code",
               "Dispute Reason", "Amount", "Currency", "Comments", "Reference"]


def ups_packets(make_packet: Callable[..., ClaimPacket]) -> list[ClaimPacket]:
    return [
        make_packet(1, carrier="ups", kind="late_delivery", tracking_number="1Z999AA10123456784",
                    amount=Decimal("24.35"), invoice_number="0000A1B2C3-2026-41", account_number="A1B2C3"),
        make_packet(2, carrier="ups", kind="dim_weight", tracking_number="0012345678",
                    amount=Decimal("3.10"), ship_date=None, description='Billed 12 lb, "correct" 9 lb'),
        make_packet(3, carrier="ups", kind="void_label", amount=Decimal("0.00")),   # not filed yet
    ]


def file_channel(carrier: str, outbox: Path, fmt: str = "csv") -> FileChannel:
    ch = channel_for(carrier, ChannelConfig(channel="file", outbox=outbox, file_format=fmt),  # type: ignore[arg-type]
                     clock=lambda: NOW)
    assert isinstance(ch, FileChannel)
    return ch


def test_csv_in_the_ups_template(tmp_path: Path, make_packet: Callable[..., ClaimPacket]) -> None:
    outbox = tmp_path / "outbox" / "ups"
    results = file_channel("ups", outbox).submit(ups_packets(make_packet))
    assert [r.outcome for r in results] == ["prepared", "prepared", "retry"]
    files = sorted(p.name for p in outbox.iterdir())
    assert files == ["ups-disputes-20261116T093005Z.csv"]         # no temporary file left behind
    with (outbox / files[0]).open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == UPS_HEADERS
    assert rows[1] == ["A1B2C3", "0000A1B2C3-2026-41", "1Z999AA10123456784", "2026-10-01", "GSR",
                       "Late delivery (service guarantee refund)", "24.35", "USD", "Parcel 1 arrived crushed", "1"]
    assert rows[2][2] == "0012345678"
    assert rows[2][3] == ""
    assert rows[2][4] == "DIM_WEIGHT"
    assert rows[2][8] == 'Billed 12 lb, "correct" 9 lb'
    assert len(rows) == 3
    assert files[0] in results[0].message


def test_xlsx_in_the_fedex_template(tmp_path: Path, make_packet: Callable[..., ClaimPacket]) -> None:
    packets = [make_packet(n, carrier="fedex", kind=kind, tracking_number=f"0{n}7946", amount=amount)
               for n, kind, amount in [(1, "late_delivery", Decimal("41.07")), (2, "lost", Decimal("100.00"))]]
    results = file_channel("fedex", tmp_path, "xlsx").submit(packets)
    assert [r.outcome for r in results] == ["prepared", "prepared"]
    path = tmp_path / "fedex-disputes-20261116T093005Z.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws is not None
    rows: list[tuple[Any, ...]] = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == REGISTRY["fedex"].dispute_headers()
    headers = list(rows[0])
    first = dict(zip(headers, rows[1], strict=True))
    assert first["Tracking ID"] == "017946"             # text: the leading zero survives
    assert first["Dispute Type"] == "MBG"
    assert Decimal(str(first["Disputed Amount"])) == Decimal("41.07")
    assert ws.cell(row=2, column=headers.index("Disputed Amount") + 1).number_format == "0.00"
    second = dict(zip(headers, rows[2], strict=True))
    assert second["Dispute Type"] == "LOSS"
    assert len(rows) == 3


def test_one_file_per_run_never_overwritten(tmp_path: Path, make_packet: Callable[..., ClaimPacket]) -> None:
    ch = file_channel("ups", tmp_path)
    ch.submit(ups_packets(make_packet)[:1])
    ch.submit(ups_packets(make_packet)[1:2])     # same second: a second file beside the first
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ups-disputes-20261116T093005Z-2.csv", "ups-disputes-20261116T093005Z.csv"]


def test_nothing_to_file_writes_nothing(tmp_path: Path, make_packet: Callable[..., ClaimPacket]) -> None:
    ch = file_channel("ups", tmp_path)
    assert ch.submit([]) == []
    assert ch.submit(ups_packets(make_packet)[2:])[0].outcome == "retry"
    assert list(tmp_path.iterdir()) == []
    assert ch.find(ups_packets(make_packet)[0]) is None
    assert ch.status("x") is None


def test_an_unwritable_outbox_means_retry(tmp_path: Path, make_packet: Callable[..., ClaimPacket]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    [result] = file_channel("ups", blocker / "outbox").submit(ups_packets(make_packet)[:1])
    assert result.outcome == "retry"


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_every_carrier_can_write_a_dispute_file(
        code: str, tmp_path: Path, make_packet: Callable[..., ClaimPacket]) -> None:
    kind = sorted(REGISTRY[code].accepted_kinds)[0]
    [result] = file_channel(code, tmp_path).submit([make_packet(carrier=code, kind=kind)])
    assert result.outcome == "prepared"
