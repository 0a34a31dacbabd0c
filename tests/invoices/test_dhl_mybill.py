"""DHL Express MyBill reader, on fixture files generated from the MyBill column list.

No real MyBill file was available: :func:`mybill` writes realistic ones from the 153 columns of
``shared/samples/formats/dhl_express_mybill_csv_columns.tsv`` (the first 90 are listed here, the
nine XC groups are built). ``fixtures/dhl/mybill_sample.csv`` is one such file, kept for people to
read; regenerate it with ``python tests/invoices/test_dhl_mybill.py`` (a test checks it is current).
"""

from __future__ import annotations

import csv
import io
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from recoup.errors import FileRefused
from recoup.ingest.base import INVOICE_COLUMNS, ReadResult
from recoup.invoices import dhl_mybill, fedex_csv, ups_billing
from recoup.vocabulary import CHARGE_TYPES

SAMPLE = Path(__file__).parent / "fixtures" / "dhl" / "mybill_sample.csv"

BASE_COLUMNS = [
    'Line Type', 'Billing Source', 'Original Invoice Number', 'Invoice Number', 'Station Code',
    'Invoice Identifier', 'Invoice Type', 'Invoice Date', 'Payment Terms', 'Due Date', 'Parent Account',
    'Billing Account', 'Billing Account Name', 'Billing Account Name (Additional)', 'Billing Address 1',
    'Billing Address 2', 'Billing Address 3', 'Billing Postcode', 'Billing City', 'Billing State/Province',
    'Billing Country Code', 'Billing Contact', 'VAT Number', 'Shipment Number', 'Shipment Date',
    'Country Specific Label', 'Country Specific Value', 'Shipment Reference 1', 'Shipment Reference 2',
    'Shipment Reference 3', 'Product', 'Product Name', 'Pieces', 'Origin', 'Orig Name', 'Orig Country Code',
    'Orig Country Name', 'Senders Name', 'Senders Address 1', 'Senders Address 2', 'Senders Address 3',
    'Senders Postcode', 'Senders City', 'Senders State/Province', 'Senders Country', 'Senders Contact',
    'Destination', 'Dest Name', 'Dest Country Code', 'Dest Country Name', 'Receivers Name',
    'Receivers Address 1', 'Receivers Address 2', 'Receivers Address 3', 'Receivers Postcode',
    'Receivers City', 'Receivers State/Province', 'Receivers Country', 'Receivers Contact',
    'Proof of Delivery/Name', 'Description of Contents', 'Event Description', 'Dimensions',
    'Cust Scale Weight (A)', 'DHL Scale Weight (B)', 'Cust Vol Weight (V)', 'DHL Vol Weight (W)',
    'Weight Flag', 'Weight (kg)', 'Currency', 'Total amount (excl. VAT)', 'Total amount (incl. VAT)',
    'Tax Code', 'Total Tax', 'Tax Adjustment', 'Invoice Fee', 'Weight Charge', 'Weight Tax (VAT)',
    'Other Charges 1', 'Other Charges 1 Amount', 'Other Charges 2', 'Other Charges 2 Amount', 'Discount 1',
    'Discount 1 Amount', 'Discount 2', 'Discount 2 Amount', 'Discount 3', 'Discount 3 Amount',
    'Total Extra Charges (XC)', 'Total Extra Charges Tax',
]
XC_PARTS = ["Code", "Name", "Charge", "Tax Code", "Tax", "Discount", "Total"]
COLUMNS = BASE_COLUMNS + [f"XC{k} {part}" for k in range(1, 10) for part in XC_PARTS]


def _money(d: Decimal) -> str:
    return f"{d:.2f}"


def invoice_row(number: str = "LHRIR00123456", **kw: str) -> dict[str, str]:
    row = {
        "Line Type": "I", "Billing Source": "DHL Express UK", "Invoice Number": number, "Station Code": "LHR",
        "Invoice Identifier": number[-8:], "Invoice Type": "INV", "Invoice Date": "20260905", "Payment Terms": "30",
        "Due Date": "20261005", "Parent Account": "950000001", "Billing Account": "950000001",
        "Billing Account Name": "ACME TRADING LTD", "Billing Address 1": "1 HIGH STREET", "Billing Postcode": "SL1 1AA",
        "Billing City": "SLOUGH", "Billing Country Code": "GB", "Billing Contact": "ACCOUNTS", "VAT Number": "GB123456789",
        "Currency": "GBP",
    }
    row.update(kw)
    return row


def shipment(waybill: str, *, weight_charge: str = "45.60", extras: list[tuple[str, str, str]] | None = None,
             number: str = "LHRIR00123456", **kw: str) -> dict[str, str]:
    """An S row: waybill, the weight charge and (code, name, charge) extra-charge groups."""
    row = {
        "Line Type": "S", "Billing Source": "DHL Express UK", "Invoice Number": number, "Station Code": "LHR",
        "Invoice Type": "INV", "Invoice Date": "20260905", "Billing Account": "950000001", "Currency": "GBP",
        "Shipment Number": waybill, "Shipment Date": "20260828", "Shipment Reference 1": "ORDER-1001",
        "Product": "P", "Product Name": "EXPRESS WORLDWIDE", "Pieces": "1", "Origin": "LHR", "Orig Name": "LONDON-HEATHROW",
        "Orig Country Code": "GB", "Orig Country Name": "United Kingdom", "Senders Name": "ACME TRADING LTD",
        "Senders Address 1": "1 HIGH STREET", "Senders Postcode": "SL1 1AA", "Senders City": "SLOUGH",
        "Senders Country": "GB", "Destination": "JFK", "Dest Name": "NEW YORK-JFK", "Dest Country Code": "US",
        "Dest Country Name": "United States", "Receivers Name": "JANE DOE", "Receivers Address 1": "5 MAIN ST",
        "Receivers Postcode": "10001", "Receivers City": "NEW YORK", "Receivers Country": "US",
        "Proof of Delivery/Name": "DOE", "Description of Contents": "BOOKS", "Dimensions": "30x20x10",
        "Cust Scale Weight (A)": "2.0", "DHL Scale Weight (B)": "2.1", "Cust Vol Weight (V)": "1.2",
        "DHL Vol Weight (W)": "1.2", "Weight Flag": "B", "Weight (kg)": "2.5", "Tax Code": "Z",
        "Weight Charge": weight_charge, "Weight Tax (VAT)": "0.00",
    }
    total = Decimal(weight_charge)
    for k, (code, name, charge) in enumerate(extras or [], start=1):
        row.update({f"XC{k} Code": code, f"XC{k} Name": name, f"XC{k} Charge": charge, f"XC{k} Tax Code": "Z",
                    f"XC{k} Tax": "0.00", f"XC{k} Discount": "0.00", f"XC{k} Total": charge})
        total += Decimal(charge)
    row["Total Extra Charges (XC)"] = _money(total - Decimal(weight_charge))
    row["Total Extra Charges Tax"] = "0.00"
    row["Total Tax"] = "0.00"
    row["Total amount (excl. VAT)"] = _money(total)
    row["Total amount (incl. VAT)"] = _money(total)
    row.update(kw)
    return row


def mybill(rows: list[dict[str, str]], *, sep: str = ",", columns: list[str] = COLUMNS) -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        unknown = set(r) - set(columns)
        assert not unknown, unknown
        w.writerow([r.get(c, "") for c in columns])
    return out.getvalue()


def sample_rows() -> list[dict[str, str]]:
    return [
        invoice_row(**{"Total amount (excl. VAT)": "269.44", "Total amount (incl. VAT)": "269.44"}),
        shipment("1234567890", extras=[("FF", "FUEL SURCHARGE", "12.31"), ("OO", "REMOTE AREA DELIVERY", "25.00")]),
        shipment("2345678901", weight_charge="88.20", **{"Discount 1": "CONTRACT DISCOUNT", "Discount 1 Amount": "-8.82"},
                 extras=[("FF", "FUEL SURCHARGE", "21.43"), ("YY", "OVERWEIGHT PIECE", "75.00"),
                         ("II", "SHIPMENT INSURANCE", "9.50")]),
        shipment("3456789012", weight_charge="0.00", **{"Product": "Z", "Product Name": "DUTIES & TAXES"},
                 extras=[("XX", "IMPORT EXPORT DUTIES", "15.60"), ("DD", "DUTY TAX PAID", "11.00"),
                         ("QZ", "NEW SURCHARGE", "4.62")]),
    ]


def read(tmp_path: Path, text: str, name: str = "dhl.csv") -> ReadResult:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return dhl_mybill.read(path)


def lines_of(result: ReadResult) -> list[tuple[str, str, int]]:
    f = result.frame
    return list(zip(f["tracking_number"], f["charge_type"], f["amount_cents"].astype(int), strict=True))


def test_the_column_list_is_the_mybill_one() -> None:
    assert len(COLUMNS) == 153
    assert COLUMNS[:4] == ["Line Type", "Billing Source", "Original Invoice Number", "Invoice Number"]
    assert COLUMNS[-1] == "XC9 Total"


def test_the_sample_fixture_is_current() -> None:
    assert SAMPLE.read_text(encoding="utf-8").replace("\r\n", "\n") == mybill(sample_rows()).replace("\r\n", "\n")


def test_the_sample_reads_into_canonical_lines() -> None:
    result = dhl_mybill.read(SAMPLE)
    assert lines_of(result) == [
        ("1234567890", "transportation", 4560), ("1234567890", "fuel", 1231), ("1234567890", "delivery_area", 2500),
        ("2345678901", "transportation", 7938), ("2345678901", "fuel", 2143),
        ("2345678901", "additional_handling", 7500), ("2345678901", "declared_value", 950),
        ("3456789012", "other", 1560), ("3456789012", "other", 1100), ("3456789012", "other", 462),
    ]
    f = result.frame
    assert list(f.columns) == INVOICE_COLUMNS
    assert set(f["charge_type"]) <= CHARGE_TYPES
    assert set(f["carrier"]) == {"dhl_express"}
    assert list(f["line"]) == [3, 3, 3, 4, 4, 4, 4, 5, 5, 5]
    t = f.iloc[0]
    assert (t["billed_weight"], t["weight_unit"], t["zone"], t["service"]) == ("2.5", "kg", None, "P")
    assert (t["description"], t["currency"], t["account_number"]) == ("EXPRESS WORLDWIDE", "GBP", "950000001")
    assert t["invoice_date"] == pd.Timestamp("2026-09-05")
    assert t["ship_date"] == pd.Timestamp("2026-08-28")
    assert f["billed_weight"].iloc[1:3].isna().all()
    assert list(f["description"].iloc[7:]) == ["IMPORT EXPORT DUTIES", "DUTY TAX PAID", "NEW SURCHARGE"]
    assert result.unknown_codes == {"dhl:QZ": 1}
    assert result.notes == ["1 invoice (I) row(s) read for invoice values: not charges"]
    assert result.errors == []
    assert result.read == 4


def test_semicolon_export_with_day_first_dates_reads_the_same(tmp_path: Path) -> None:
    rows = sample_rows()
    for r in rows:
        for col in ("Invoice Date", "Shipment Date", "Due Date"):
            if r.get(col):
                r[col] = f"{r[col][6:8]}/{r[col][4:6]}/{r[col][:4]}"
    semi = read(tmp_path, mybill(rows, sep=";"))
    plain = dhl_mybill.read(SAMPLE)
    assert semi.errors == []
    pd.testing.assert_frame_equal(semi.frame, plain.frame)


def test_codes_map_by_code_then_by_name(tmp_path: Path) -> None:
    extras = [("MA", "ADDRESS CORRECTION", "12.00"), ("YB", "OVERSIZE PIECE", "60.00"), ("AA", "SATURDAY DELIVERY", "30.00"),
              ("IB", "EXTENDED LIABILITY", "5.00"), ("ZQ", "Fuel surcharge", "1.00"), ("", "DIRECT SIGNATURE", "4.00"),
              ("OB", "REMOTE AREA PICKUP", "25.00"), ("ZZ", "", "2.00"), ("CA", "ELEVATED RISK", "3.00")]
    result = read(tmp_path, mybill([shipment("1", extras=extras)]))
    assert [t for _, t, _ in lines_of(result)] == [
        "transportation", "address_correction", "large_package", "saturday", "declared_value", "fuel",
        "signature", "other", "other", "other"]
    assert result.unknown_codes == {"dhl:ZZ": 1}


def test_discounts_reduce_their_charge_whatever_their_sign(tmp_path: Path) -> None:
    rows = [shipment("1", **{"Discount 1 Amount": "4.56", "Discount 2 Amount": "-1.00"},
                     extras=[("FF", "FUEL SURCHARGE", "10.00")], **{"XC1 Discount": "-1.50"}),
            shipment("2", **{"Other Charges 1": "Volume rebate", "Other Charges 1 Amount": "-5.00",
                             "Other Charges 2": "Handling fee", "Other Charges 2 Amount": "3.00", "Invoice Fee": "2.50"})]
    result = read(tmp_path, mybill(rows))
    assert lines_of(result) == [("1", "transportation", 4004), ("1", "fuel", 850),
                                ("2", "transportation", 4060), ("2", "other", 300), ("2", "other", 250)]
    assert result.unknown_codes == {"dhl:Handling fee": 1}


def test_tax_is_an_other_line(tmp_path: Path) -> None:
    result = read(tmp_path, mybill([shipment("1", **{"Total Tax": "9.12", "Tax Code": "A"})]))
    assert lines_of(result) == [("1", "transportation", 4560), ("1", "other", 912)]
    assert result.frame["description"].iloc[1] == "Tax A"


def test_invoice_values_come_from_the_i_row_when_the_s_row_lacks_them(tmp_path: Path) -> None:
    rows = [invoice_row("INV-2", **{"Invoice Date": "20260912", "Currency": "EUR", "Billing Account": "ACC-9"}),
            shipment("1", number="INV-2", **{"Invoice Date": "", "Currency": "", "Billing Account": ""})]
    f = read(tmp_path, mybill(rows)).frame
    assert f["invoice_date"].iloc[0] == pd.Timestamp("2026-09-12")
    assert (f["currency"].iloc[0], f["account_number"].iloc[0]) == ("EUR", "ACC-9")


def test_negative_lines_are_credits_referring_to_the_original_invoice(tmp_path: Path) -> None:
    rows = [shipment("1", weight_charge="-45.60", extras=[("FF", "FUEL SURCHARGE", "-12.31")],
                     **{"Original Invoice Number": "LHRIR00099999", "Invoice Number": "LHRCR0001"})]
    f = read(tmp_path, mybill(rows)).frame
    assert list(zip(f["charge_type"], f["amount_cents"], f["reference"], f["description"], strict=True)) == [
        ("credit", -4560, "LHRIR00099999", "EXPRESS WORLDWIDE"), ("credit", -1231, "LHRIR00099999", "FUEL SURCHARGE")]
    assert f["billed_weight"].isna().all()


def test_bad_rows_are_reported_and_left_out(tmp_path: Path) -> None:
    rows = [
        invoice_row(),
        shipment("1"),
        shipment("2", **{"Weight Charge": "45.6O"}),
        shipment("3", extras=[("FF", "FUEL SURCHARGE", "1.00"), ("OO", "REMOTE AREA DELIVERY", "1.00")],
                 **{"XC2 Charge": "abc"}),
        shipment("", extras=[]),
        shipment("5", **{"Line Type": "T"}),
        shipment("6", **{"Shipment Date": "2026/08/28"}),
        shipment("7", **{"Invoice Type": "CN INB"}),
        shipment("8", **{"Weight (kg)": "2,5"}),
    ]
    result = read(tmp_path, mybill(rows))
    assert set(result.frame["line"]) == {3}
    assert [(e.line, e.column) for e in result.errors] == [
        (4, "Weight Charge"), (5, "XC2 Charge"), (6, "Shipment Number"), (7, "Line Type"),
        (8, "Shipment Date"), (9, "Invoice Type"), (10, "Weight (kg)")]
    assert all(e.invoice_number == "LHRIR00123456" for e in result.errors)
    assert result.errors[0].reason == "not an amount: '45.6O'"


def test_header_names_match_without_spaces_or_case(tmp_path: Path) -> None:
    columns = [c.replace(" (", "(").replace("Weight (kg)", "Weight(kg)").upper() for c in COLUMNS]
    rows = [{c.replace(" (", "(").upper(): v for c, v in r.items()} for r in sample_rows()]
    rows = [{k.replace("WEIGHT (KG)", "WEIGHT(KG)"): v for k, v in r.items()} for r in rows]
    result = read(tmp_path, mybill(rows, columns=columns))
    assert lines_of(result) == lines_of(dhl_mybill.read(SAMPLE))
    assert result.frame["billed_weight"].iloc[0] == "2.5"


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the file is empty"),
    (b"Line Type,Invoice Number,Shipment Number\nS,1,2\n", "no 'Weight Charge' column"),
    (",".join(COLUMNS).encode() + b"\r\n", "no rows after the header"),
    (b"2.1,0000A1B2C3,UPS-001" + b"," * 247 + b"\n", "not a DHL Express MyBill CSV"),
])
def test_files_that_are_not_mybill_exports_are_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(FileRefused, match=reason):
        dhl_mybill.read(path)


def test_mybill_is_not_taken_for_another_format() -> None:
    head = SAMPLE.read_bytes()
    assert dhl_mybill.sniff(head)
    assert not fedex_csv.sniff(head)
    assert not ups_billing.sniff(head)


if __name__ == "__main__":  # regenerate the sample fixture
    SAMPLE.write_text(mybill(sample_rows()), encoding="utf-8", newline="")
    print(f"wrote {SAMPLE}", file=sys.stderr)
