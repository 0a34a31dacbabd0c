"""FedEx Billing Online CSV reader on small hand-made exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from recoup.errors import FileRefused
from recoup.ingest.base import ReadResult
from recoup.invoices import fedex_csv

BASE = ["Bill to Account Number", "Invoice Date", "Invoice Number", "Store ID", "Ground Tracking ID Prefix",
        "Express or Ground Tracking ID", "Transportation Charge Amount", "Net Charge Amount", "Service Type",
        "Ground Service", "Shipment Date", "Rated Weight Amount", "Rated Weight Units", "Zone Code"]
PAIR = ["Tracking ID Charge Description", "Tracking ID Charge Amount"]
HEADER = BASE + PAIR * 5 + ["Shipment Notes"]


def export(rows: list[dict[str, object]], header: list[str] = HEADER) -> str:
    """CSV text: each row a dict of single columns plus "pairs": [(description, amount), ...]."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    pair_slots = [i for i, h in enumerate(header) if h == PAIR[0]]
    for r in rows:
        cells = [""] * len(header)
        for name, value in r.items():
            if name != "pairs":
                cells[header.index(name)] = str(value)
        for slot, (desc, amount) in zip(pair_slots, r.get("pairs", []), strict=False):  # type: ignore[call-overload]
            cells[slot], cells[slot + 1] = desc, amount
        w.writerow(cells)
    return out.getvalue()


def parcel(**kw: object) -> dict[str, object]:
    r: dict[str, object] = {
        "Bill to Account Number": "FEDEX-001", "Invoice Date": "20260905", "Invoice Number": "F-1",
        "Express or Ground Tracking ID": "531428797172", "Transportation Charge Amount": "77.27",
        "Net Charge Amount": "98.82", "Service Type": "Priority Overnight", "Shipment Date": "20260827",
        "Rated Weight Amount": "46", "Rated Weight Units": "L", "Zone Code": "04",
        "pairs": [("Fuel Surcharge", "15.45"), ("Residential Delivery Charge", "6.10")],
    }
    r.update(kw)
    return r


def read(tmp_path: Path, text: str) -> ReadResult:
    path = tmp_path / "fedex.csv"
    path.write_text(text, encoding="utf-8")
    return fedex_csv.read(path)


def test_one_row_becomes_a_transportation_line_and_one_line_per_charge(tmp_path: Path) -> None:
    result = read(tmp_path, export([parcel()]))
    f = result.frame
    assert list(f["charge_type"]) == ["transportation", "fuel", "residential"]
    assert list(f["amount_cents"]) == [7727, 1545, 610]
    assert list(f["line"]) == [2, 2, 2]
    t = f.iloc[0]
    assert (t["billed_weight"], t["weight_unit"], t["zone"]) == ("46", "lb", "04")
    assert (t["service"], t["description"], t["carrier"]) == ("Priority Overnight", "Priority Overnight", "fedex")
    assert t["invoice_date"] == pd.Timestamp("2026-09-05")
    assert t["ship_date"] == pd.Timestamp("2026-08-27")
    assert f["billed_weight"].iloc[1:].isna().all()
    assert list(f["description"].iloc[1:]) == ["Fuel Surcharge", "Residential Delivery Charge"]
    assert f["currency"].isna().all()  # FedEx Billing Online has no currency column
    assert result.errors == []
    assert result.notes == []
    assert result.read == 1


def test_discount_pairs_fold_into_the_transportation_line(tmp_path: Path) -> None:
    row = parcel(**{"Transportation Charge Amount": "50.00", "Net Charge Amount": "48.50",
                    "pairs": [("Discount", "-5.00"), ("Fuel Surcharge", "6.00"), ("Earned Discount", "-2.50"),
                              ("Performance Pricing", "-1.00"), ("DAS Extended Resi", "1.00")]})
    f = read(tmp_path, export([row])).frame
    assert list(zip(f["charge_type"], f["amount_cents"], strict=True)) == [
        ("transportation", 4150), ("fuel", 600), ("delivery_area", 100)]


def test_ground_tracking_id_prefix_is_prepended(tmp_path: Path) -> None:
    row = parcel(**{"Ground Tracking ID Prefix": "9612019", "Express or Ground Tracking ID": "012345678901"})
    f = read(tmp_path, export([row])).frame
    assert set(f["tracking_number"]) == {"9612019012345678901"}


def test_credits_take_reference_and_text_from_the_shipment_notes(tmp_path: Path) -> None:
    rows = [
        parcel(**{"Transportation Charge Amount": "-24.00", "Net Charge Amount": "-24.00", "Service Type": "",
                  "Rated Weight Amount": "", "Rated Weight Units": "", "Zone Code": "", "Shipment Date": "",
                  "pairs": [], "Shipment Notes": "Guaranteed Service Refund ADJ-3958012"}),
        parcel(**{"Transportation Charge Amount": "0", "Net Charge Amount": "-3.10",
                  "pairs": [("Fuel Surcharge", "-3.10")], "Shipment Notes": ""}),
    ]
    f = read(tmp_path, export(rows)).frame
    assert list(f["charge_type"]) == ["credit", "credit"]
    assert list(f["amount_cents"]) == [-2400, -310]
    assert list(f["reference"]) == ["ADJ-3958012", None]
    assert list(f["description"]) == ["Guaranteed Service Refund", "Fuel Surcharge"]
    assert f["billed_weight"].isna().all()
    assert f["zone"].isna().all()


def test_a_row_that_only_rebills_a_surcharge_has_no_transportation_line(tmp_path: Path) -> None:
    row = parcel(**{"Transportation Charge Amount": "0", "Net Charge Amount": "6.10", "Rated Weight Amount": "",
                    "Rated Weight Units": "", "pairs": [("Residential Delivery Charge", "6.10")]})
    f = read(tmp_path, export([row])).frame
    assert list(f["charge_type"]) == ["residential"]


def test_unknown_descriptions_are_other_and_counted(tmp_path: Path) -> None:
    rows = [parcel(pairs=[("Mystery Fee", "2.00"), ("Fuel Surcharge", "1.00")]), parcel(pairs=[("Mystery  Fee", "2.00")])]
    result = read(tmp_path, export(rows))
    other = result.frame[result.frame["charge_type"] == "other"]
    assert list(other["description"]) == ["Mystery Fee", "Mystery  Fee"]
    assert result.unknown_codes == {"fedex:Mystery Fee": 2}


def test_known_accessorials(tmp_path: Path) -> None:
    pairs = [("Address Correction", "24.00"), ("Additional Handling Surcharge - Weight", "31.00"),
             ("Oversize Charge", "90.00"), ("Saturday Delivery", "16.00"), ("Declared Value", "3.00"),
             ("Direct Signature Required", "6.00")]
    result = read(tmp_path, export([parcel(pairs=pairs[:5]), parcel(pairs=pairs[5:])]))
    assert list(result.frame["charge_type"]) == [
        "transportation", "address_correction", "additional_handling", "large_package", "saturday",
        "declared_value", "transportation", "signature"]
    assert not result.unknown_codes


def test_columns_are_matched_by_name_in_any_order_and_count(tmp_path: Path) -> None:
    header = ["  express or ground tracking id ", "INVOICE NUMBER", "Invoice Date", "Transportation Charge Amount",
              *PAIR, "Service Type"]
    text = export([{"  express or ground tracking id ": "123456789012", "INVOICE NUMBER": "F-9",
                    "Invoice Date": "2026-09-05", "Transportation Charge Amount": "10.00", "Service Type": "FedEx 2Day",
                    "pairs": [("Fuel Surcharge", "1.50")]}], header)
    assert fedex_csv.sniff(text.encode())
    f = read(tmp_path, text).frame
    assert list(f["charge_type"]) == ["transportation", "fuel"]
    assert f["invoice_date"].iloc[0] == pd.Timestamp("2026-09-05")
    assert f["billed_weight"].isna().all()
    assert f["ship_date"].isna().all()


def test_bad_rows_are_reported_and_left_out(tmp_path: Path) -> None:
    rows = [
        parcel(),
        parcel(**{"Transportation Charge Amount": "77,27x"}),
        parcel(**{"Invoice Date": "09/05/2026"}),
        parcel(**{"Express or Ground Tracking ID": ""}),
        parcel(pairs=[("Fuel Surcharge", "1.00"), ("Residential Delivery Charge", "six")]),
        parcel(**{"Rated Weight Units": "Q"}),
        parcel(**{"Invoice Number": ""}),
    ]
    result = read(tmp_path, export(rows))
    assert set(result.frame["line"]) == {2}
    assert [(e.line, e.column, e.invoice_number) for e in result.errors] == [
        (3, "Transportation Charge Amount", "F-1"),
        (4, "Invoice Date", "F-1"),
        (5, "Express or Ground Tracking ID", "F-1"),
        (6, "Tracking ID Charge Amount (pair 2)", "F-1"),
        (7, "Rated Weight Units", "F-1"),
        (8, "Invoice Number", None),
    ]
    assert result.errors[1].reason == "not a date (YYYYMMDD or YYYY-MM-DD): '09/05/2026'"


def test_net_amount_that_is_not_the_sum_of_the_charges_is_noted(tmp_path: Path) -> None:
    result = read(tmp_path, export([parcel(**{"Net Charge Amount": "100.00"})]))
    assert len(result.frame) == 3
    assert result.notes == ["1 row(s) where Net Charge Amount is not the sum of the row's charges (lines follow the charges)"]


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the file is empty"),
    (b"\x00\x00\x00", "binary"),
    (b"Invoice Number,Invoice Date,Express or Ground Tracking ID\nF-1,20260905,1\n",
     "no 'Transportation Charge Amount' column"),
    (",".join(HEADER).encode() + b"\r\n", "no invoice rows"),
    (b"2.1,0000A1B2C3,UPS-001" + b"," * 247 + b"\n", "not a FedEx Billing Online invoice CSV"),
])
def test_files_that_are_not_fedex_exports_are_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(FileRefused, match=reason):
        fedex_csv.read(path)
