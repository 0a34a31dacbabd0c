"""Each carrier reader recognises its own format from content only, and no reader ever raises
anything but FileRefused, whatever bytes it is given."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recoup.errors import FileRefused
from recoup.ingest.base import ReadResult
from recoup.invoices import dhl_mybill, fedex_csv, ups_billing

READERS = {"ups": ups_billing, "fedex": fedex_csv, "dhl": dhl_mybill}
DHL_SAMPLE = Path(__file__).parent / "fixtures" / "dhl" / "mybill_sample.csv"


def ups_line(sep: str = ",", date: str = "2026-09-05", trim: bool = False) -> str:
    cells = [""] * 250
    cells[0], cells[2], cells[4], cells[5], cells[9] = "2.1", "UPS-001", date, "INV-1", "USD"
    cells[20], cells[34], cells[43], cells[44], cells[45], cells[52] = "1Z999AA10123456784", "SHP", "FRT", "3", "Ground", "9.99"
    cells[116] = date
    line = sep.join(cells)
    return line.rstrip(sep) if trim else line


FEDEX = ("Bill to Account Number,Invoice Date,Invoice Number,Express or Ground Tracking ID,"
         "Transportation Charge Amount,Net Charge Amount,Tracking ID Charge Description,Tracking ID Charge Amount\n"
         "FEDEX-001,20260905,F-1,531428797172,77.27,92.72,Fuel Surcharge,15.45\n")
CANONICAL_INVOICES = ("invoice_number,invoice_date,carrier,account_number,currency,tracking_number,charge_type,amount,"
                      "billed_weight,weight_unit,zone,service,ship_date,reference,description\n"
                      "UPS-1,2026-09-05,ups,UPS-001,USD,1Z8D35140381200909,transportation,46.73,13,lb,5,2DA,2026-08-26,,x\n")
CANONICAL_SHIPMENTS = ("tracking_number,carrier,service,ship_date,dest_postal,dest_country\n"
                       "1Z8D35140381200909,ups,2DA,2026-08-26,10001,US\n")

SAMPLES: dict[str, tuple[bytes, str | None]] = {
    "ups comma": (((ups_line() + "\n") * 3).encode(), "ups"),
    "ups semicolon, day-first, trimmed": (
        ((ups_line(";", "05/09/2026", trim=True) + "\r\n") * 3).encode("utf-8-sig"), "ups"),
    "fedex": (FEDEX.encode(), "fedex"),
    "fedex with BOM": (FEDEX.encode("utf-8-sig"), "fedex"),
    "canonical invoices": (CANONICAL_INVOICES.encode(), None),
    "canonical shipments": (CANONICAL_SHIPMENTS.encode(), None),
    "json": (b'{"trackResponse": {"shipment": []}}', None),
    "prose": (b"Dear customer,\nplease find attached your invoice.\n", None),
    "empty": (b"", None),
    "binary": (bytes(range(256)), None),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_format_is_recognised_by_its_reader_only(name: str) -> None:
    head, expected = SAMPLES[name]
    claimed = [fmt for fmt, mod in READERS.items() if mod.sniff(head)]
    assert claimed == ([expected] if expected else [])


def test_the_dhl_sample_is_recognised_by_the_dhl_reader_only() -> None:
    head = DHL_SAMPLE.read_bytes()
    assert [fmt for fmt, mod in READERS.items() if mod.sniff(head)] == ["dhl"]


def test_sniff_only_needs_the_head_of_a_large_file() -> None:
    head = ((ups_line() + "\n") * 400).encode()[:65536]   # cut in the middle of a line
    assert ups_billing.sniff(head)


@pytest.mark.parametrize("fmt", list(READERS))
@pytest.mark.parametrize("name", list(SAMPLES))
def test_a_reader_refuses_what_it_does_not_recognise(tmp_path: Path, fmt: str, name: str) -> None:
    content, expected = SAMPLES[name]
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    if expected == fmt:
        assert isinstance(READERS[fmt].read(path), ReadResult)
    else:
        with pytest.raises(FileRefused):
            READERS[fmt].read(path)


def _mutations() -> st.SearchStrategy[bytes]:
    seeds = [SAMPLES["ups comma"][0], SAMPLES["ups semicolon, day-first, trimmed"][0], FEDEX.encode(),
             DHL_SAMPLE.read_bytes()[:6000]]
    return st.tuples(st.sampled_from(seeds), st.lists(st.tuples(st.integers(0, 6000), st.binary(max_size=4)),
                                                      max_size=6)).map(_mutate)


def _mutate(arg: tuple[bytes, list[tuple[int, bytes]]]) -> bytes:
    data, edits = arg
    for pos, blob in edits:
        pos %= max(len(data), 1)
        data = data[:pos] + blob + data[pos + len(blob) % 3:]
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.one_of(st.binary(max_size=300), _mutations(),
                         st.text(alphabet=',;"\n\r\t 0123456789.-/abcZ', max_size=400).map(str.encode)))
def test_no_reader_raises_anything_but_file_refused(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(content)
        for mod in READERS.values():
            result = _read_or_refusal(mod, path)
            if isinstance(result, str):
                assert result  # refused, with a reason
                continue
            assert isinstance(result, ReadResult)
            assert result.frame["amount_cents"].dtype == "int64"
            assert len(result.frame) == 0 or result.frame["line"].min() >= 1


def _read_or_refusal(mod, path: Path) -> ReadResult | str:  # type: ignore[no-untyped-def]
    try:
        return mod.read(path)  # type: ignore[no-any-return]
    except FileRefused as exc:
        return str(exc)
