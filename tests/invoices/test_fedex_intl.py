"""The FedEx invoice download used outside the US, as CSV and as .xlsx (fixture: fixtures/fedex_intl)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from recoup.errors import FileRefused
from recoup.ingest.formats import detect
from recoup.invoices import fedex_csv, fedex_intl

FIXTURE = Path(__file__).parent / "fixtures" / "fedex_intl" / "fedex-invoice-download-eur.csv"


def comma_decimal(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def fixture_rows() -> tuple[list[str], list[list[str]]]:
    with open(FIXTURE, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    return rows[0], rows[1:]


def as_xlsx(tmp_path: Path, name: str = "download.xlsx") -> Path:
    """The fixture as FedEx or a finance team hands it out in Excel: numbers stored as numbers
    (amounts as floats, the waybill number as an integer), dates as Excel dates."""
    header, rows = fixture_rows()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoice Data"
    ws.append(header)
    numeric = {"Invoice Amount", "Air Waybill Charge Amount", "Rated Weight Amount", "Actual Weight Amount",
               "Air Waybill Total Amount"}
    dates = {"Invoice Date", "Due Date", "Shipment Date"}
    for row in rows:
        cells: list[object] = []
        for name_, value in zip(header, row, strict=True):
            if value == "":
                cells.append(None)
            elif name_ in numeric:
                cells.append(float(comma_decimal(value)))
            elif name_ in dates:
                cells.append(dt.datetime.strptime(value, "%d.%m.%Y"))
            elif name_ in ("Air Waybill Number", "Bill to Account Number", "Number of Pieces", "Dim Divisor"):
                cells.append(int(value))
            else:
                cells.append(value)
        ws.append(cells)
    path = tmp_path / name
    wb.save(path)
    return path


def test_the_csv_download_loads_with_charges_adding_up_to_its_stated_totals() -> None:
    result = fedex_intl.read(FIXTURE)
    assert result.format == "fedex_intl" and result.errors == [] and result.read == 5
    f = result.frame
    header, rows = fixture_rows()
    awb, total = header.index("Air Waybill Number"), header.index("Air Waybill Total Amount")
    for line, row in enumerate(rows, start=2):
        lines = f[f["line"] == line]
        assert set(lines["tracking_number"]) == {row[awb]}
        assert Decimal(int(lines["amount_cents"].sum())) / 100 == comma_decimal(row[total])
    stated = comma_decimal(rows[0][header.index("Invoice Amount")])
    assert Decimal(int(f["amount_cents"].sum())) / 100 == stated == Decimal("1259.83")
    assert result.notes == []
    assert set(f["currency"]) == {"EUR"} and set(f["invoice_number"]) == {"5-123-45678"}
    assert set(f["invoice_date"]) == {pd.Timestamp("2026-09-05")}


def test_the_transportation_line_is_the_freight_plus_the_discounts() -> None:
    f = fedex_intl.read(FIXTURE).frame
    t = f[(f["tracking_number"] == "794600000022") & (f["charge_type"] == "transportation")]
    assert t["amount_cents"].tolist() == [120450 - 24090]          # 1.204,50 - 240,90
    assert t[["billed_weight", "weight_unit", "zone", "service"]].iloc[0].tolist() == \
        ["71", "kg", "D", "International Economy"]
    assert t["ship_date"].iloc[0] == pd.Timestamp("2026-09-02")
    first = f[(f["tracking_number"] == "794600000011")]
    assert first[["charge_type", "amount_cents"]].values.tolist() == [
        ["transportation", 3648], ["fuel", 821], ["address_correction", 1250]]
    assert first["billed_weight"].iloc[0] == "2.5"


def test_credits_and_unknown_labels() -> None:
    result = fedex_intl.read(FIXTURE)
    f = result.frame
    credit = f[f["charge_type"] == "credit"]
    assert credit[["tracking_number", "amount_cents", "reference", "description"]].values.tolist() == [
        ["794600000044", -3000, "GSR-558120", "Guaranteed Service Refund"]]
    assert result.unknown_codes == {"fedex:Clearance Entry Fee": 1}
    assert f.loc[f["description"] == "Clearance Entry Fee", "charge_type"].tolist() == ["other"]


def test_the_xlsx_download_gives_the_same_lines_as_the_csv(tmp_path: Path) -> None:
    from_csv = fedex_intl.read(FIXTURE)
    xlsx = as_xlsx(tmp_path)
    assert detect("invoices", xlsx).name == "fedex_intl"
    from_xlsx = fedex_intl.read(xlsx)
    assert from_xlsx.errors == [] and from_xlsx.notes == []
    pd.testing.assert_frame_equal(from_xlsx.frame, from_csv.frame)


def download(rows: list[list[str]], header: list[str], sep: str = ",") -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


NUMBERED = ["Invoice Number", "Invoice Date", "Air Waybill Number", "Service", "Ship Date", "Rated Weight (kg)",
            "Zone", "Currency", "Charge Description 1", "Charge Description 2", "Charge Description 3",
            "Charge Amount 1", "Charge Amount 2", "Charge Amount 3", "Air Waybill Total Amount"]


def test_numbered_pairs_point_decimals_and_month_names(tmp_path: Path) -> None:
    p = tmp_path / "gb.csv"
    p.write_text(download([
        ["INV-77", "05-Sep-26", "770000000001", "International Priority", "2026-09-01", "1.5", "B", "GBP",
         "Freight", "Earned Discount", "Fuel Surcharge", "1,020.00", "-20.00", "12.40", "1,012.40"],
    ], NUMBERED))
    result = fedex_intl.read(p)
    assert result.errors == []
    f = result.frame
    assert f[["charge_type", "amount_cents"]].values.tolist() == [["transportation", 100000], ["fuel", 1240]]
    assert f["invoice_date"].iloc[0] == pd.Timestamp("2026-09-05")
    assert f[["billed_weight", "weight_unit", "currency"]].iloc[0].tolist() == ["1.5", "kg", "GBP"]


def test_a_freight_column_instead_of_a_freight_pair(tmp_path: Path) -> None:
    header = ["FedEx Invoice Number", "Invoice Date", "Air Waybill Number", "Freight Charge",
              "Charge Label", "Charge Amount", "Air Waybill Total Amount"]
    p = tmp_path / "x.csv"
    p.write_text(download([["9-1", "05/09/2026", "770000000002", "20,00", "Discount", "-2,50", "17,50"]],
                          header, sep=";"))
    f = fedex_intl.read(p).frame
    assert f[["charge_type", "amount_cents"]].values.tolist() == [["transportation", 1750]]


def test_a_row_whose_charges_miss_its_stated_total_refuses_its_invoice(tmp_path: Path) -> None:
    header, rows = fixture_rows()
    rows[1][header.index("Air Waybill Total Amount")] = "1.300,00"
    p = tmp_path / "x.csv"
    p.write_text(download(rows, header, sep=";"), encoding="utf-8")
    result = fedex_intl.read(p)
    assert [(e.line, e.column, e.invoice_number) for e in result.errors] == [
        (3, "Air Waybill Total Amount", "5-123-45678")]
    assert "add up to 1213.91, not the stated 1300.00" in result.errors[0].reason
    assert 3 not in set(result.frame["line"])


def test_a_point_decimal_in_a_decimal_comma_file_is_an_error_not_a_guess(tmp_path: Path) -> None:
    header, rows = fixture_rows()
    slot = header.index("Air Waybill Charge Amount")
    rows[2][slot + 4] = "2.23"          # fuel on line 4, written with a point among commas
    p = tmp_path / "x.csv"
    p.write_text(download(rows, header, sep=";"), encoding="utf-8")
    errors = fedex_intl.read(p).errors
    assert [(e.line, e.reason) for e in errors] == [(4, "not an amount: '2.23'")]


def test_a_tracking_number_in_scientific_notation_is_refused(tmp_path: Path) -> None:
    header, rows = fixture_rows()
    rows[0][header.index("Air Waybill Number")] = "7,946E+11"
    p = tmp_path / "x.csv"
    p.write_text(download(rows, header, sep=";"), encoding="utf-8")
    result = fedex_intl.read(p)
    assert [(e.line, e.column) for e in result.errors] == [(2, "Air Waybill Number")]
    assert "scientific notation" in result.errors[0].reason
    assert 2 not in set(result.frame["line"])


def test_the_us_export_and_the_international_download_are_told_apart(tmp_path: Path) -> None:
    assert detect("invoices", FIXTURE).name == "fedex_intl"
    assert not fedex_csv.sniff(FIXTURE.read_bytes())
    us = b"Invoice Date,Invoice Number,Express or Ground Tracking ID,Transportation Charge Amount\n"
    assert fedex_csv.sniff(us) and not fedex_intl.sniff(us)
    p = tmp_path / "x.csv"
    p.write_text("FedEx Invoice Number,Invoice Date,Air Waybill Number\n1,2026-09-05,7700\n")
    with pytest.raises(FileRefused, match="no charge columns"):
        fedex_intl.read(p)
