"""The ``file`` channel: the carrier's bulk dispute file, written to an outbox folder.

One file per carrier per run, ``<carrier>-disputes-<UTC timestamp>.csv`` (or ``.xlsx``), in the
columns of the carrier's template (``CarrierSpec.dispute_columns``), written atomically (a
temporary file in the same folder, then a rename): a reader never sees half a file. A person (or
an SFTP job) uploads it to the carrier's billing portal; the outcome is ``prepared`` and the
answer comes back as credits on later invoices.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

from recoup.carriers.base import CarrierSpec, kind_label
from recoup.channels.base import ChannelConfig, ClaimPacket, StatusResult, SubmitResult, precheck
from recoup.clock import SYSTEM
from recoup.errors import ConfigError
from recoup.money import round_cents

log = logging.getLogger(__name__)

Cell = str | Decimal


def dispute_row(carrier: CarrierSpec, packet: ClaimPacket) -> list[str | Decimal]:
    """One row of the carrier's dispute file, in ``carrier.dispute_headers()`` order (pure).

    The amount is a Decimal rounded to the cent; every other cell is text ("" when unknown).
    """
    values: dict[str, str | Decimal] = {
        "tracking_number": packet.tracking_number,
        "invoice_number": packet.invoice_number or "",
        "account_number": packet.account_number or "",
        "ship_date": packet.ship_date.isoformat() if packet.ship_date else "",
        "amount": round_cents(packet.amount),
        "currency": packet.currency,
        "reason_code": carrier.reason_code(packet.kind),
        "reason": kind_label(packet.kind),
        "description": packet.description,
        "claim_id": str(packet.claim_id),
        "idempotency_key": packet.idempotency_key,
        "service": packet.service or "",
        "kind": packet.kind,
        "claim_type": carrier.claim_type(packet.kind),
        "deadline": packet.deadline.isoformat(),
        "contact_email": packet.contact_email or "",
    }
    return [values[source] for _, source in carrier.dispute_columns]


def render_csv(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([str(v) for v in row])
    return out.getvalue().encode("utf-8")


def render_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Cell]], *, sheet: str = "Disputes") -> bytes:
    """An XLSX workbook: amounts as numbers with two decimals, everything else as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
            else:
                cell.data_type = "s"        # tracking numbers stay text ("00123", "1Z...")
    ws.freeze_panes = "A2"
    for i, header in enumerate(headers, start=1):
        width = max([len(header)] + [len(str(r[i - 1])) for r in rows]) + 2
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(width, 60)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_atomically(folder: Path, name: str, data: bytes, *, replace: bool = False) -> Path:
    """Write ``folder/name`` through a temporary file and a rename.

    ``replace`` False: an existing file is kept and ``name-2.ext``, ``name-3.ext``... is used.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not replace:
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = folder / f"{stem}-{n}{suffix}"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def dispute_file_name(carrier: CarrierSpec, now: dt.datetime, file_format: str) -> str:
    return f"{carrier.code}-disputes-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.{file_format}"


class FileChannel:
    """Writes one dispute file per ``submit`` call; outcome ``prepared`` (see module docstring)."""

    name = "file"

    def __init__(self, carrier: CarrierSpec, config: ChannelConfig, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        if not config.outbox:
            raise ConfigError(f"{carrier.name}: the file channel needs an outbox folder "
                              f"(RECOUP_CARRIERS__{carrier.code.upper()}__OUTBOX)")
        if config.file_format not in ("csv", "xlsx"):
            raise ConfigError(f"{carrier.name}: file_format must be csv or xlsx, not {config.file_format!r}")
        self.carrier = carrier
        self.outbox = config.outbox
        self.file_format: Literal["csv", "xlsx"] = config.file_format
        self._clock = clock or SYSTEM.now    # no clock given (tests, direct use): the wall clock
        self.last_path: Path | None = None

    def submit(self, packets: Sequence[ClaimPacket]) -> list[SubmitResult]:
        results: list[SubmitResult | None] = [precheck(self.carrier, p) for p in packets]
        todo = [(i, p) for i, p in enumerate(packets) if results[i] is None]
        if todo:
            headers = self.carrier.dispute_headers()
            rows = [dispute_row(self.carrier, p) for _, p in todo]
            data = render_xlsx(headers, rows) if self.file_format == "xlsx" else render_csv(headers, rows)
            name = dispute_file_name(self.carrier, self._clock(), self.file_format)
            try:
                path = write_atomically(self.outbox, name, data)
            except OSError as e:
                log.warning("%s: could not write %s: %s", self.carrier.code, name, e)
                for i, p in todo:
                    results[i] = SubmitResult(p.claim_id, "retry", message=f"could not write {name}: {e}")
            else:
                self.last_path = path
                log.info("%s: %d dispute(s) written to %s", self.carrier.code, len(todo), path)
                for i, p in todo:
                    results[i] = SubmitResult(p.claim_id, "prepared",
                                              message=f"in {path}: upload it to the {self.carrier.name} portal")
        return [r for r in results if r is not None]

    def find(self, packet: ClaimPacket) -> SubmitResult | None:
        """A file's fate is not known to recoup: None."""
        return None

    def status(self, carrier_reference: str) -> StatusResult | None:
        return None
