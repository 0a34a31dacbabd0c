"""UPS Billing Data reader: dialects, mapping, row errors and refusals, on small hand-made files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recoup.errors import FileRefused
from recoup.invoices import ups_billing
from recoup.invoices.charges import columns

TRACK = "1Z999AA10123456784"


def row(values: dict[int, str] | None = None, *, sep: str = ",", dmy: bool = False, trim: bool = False) -> str:
    """One UPS Billing Data row (250 columns): a Ground FRT charge unless `values` says otherwise."""
    cells = [""] * 250
    base = {0: "2.1", 1: "0000A1B2C3", 2: "UPS-001", 3: "US", 4: "2026-09-05", 5: "INV-1", 9: "USD",
            11: "2026-09-01", 13: TRACK, 20: TRACK, 26: "10", 27: "L", 28: "10", 29: "L", 33: "004",
            34: "SHP", 43: "FRT", 44: "3", 45: "Ground", 52: "12.34", 116: "2026-09-01"}
    base.update(values or {})
    for pos, value in base.items():
        if dmy and pos in (4, 11, 116) and len(value) == 10 and value[4] == "-":
            value = f"{value[8:10]}/{value[5:7]}/{value[:4]}"
        cells[pos] = value
    line = sep.join(cells)
    return line.rstrip(sep) if trim else line


def charge(code: str, text: str, amount: str, klass: str = "ACC", **more: str) -> dict[int, str]:
    """An accessorial-style row: no weight or zone."""
    values = {43: klass, 44: code, 45: text, 52: amount, 26: "", 27: "", 28: "", 29: "", 33: ""}
    values.update({int(k[1:]): v for k, v in more.items()})
    return values


def write(tmp_path: Path, lines: list[str], name: str = "ups.csv", *, bom: bool = False, crlf: bool = False) -> Path:
    path = tmp_path / name
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def standard_lines(**kw: object) -> list[str]:
    return [
        row(**kw),  # type: ignore[arg-type]
        row(charge("FSC", "Fuel Surcharge", "2.31", klass="FSC"), **kw),  # type: ignore[arg-type]
        row(charge("RES", "Residential Surcharge", "5.95"), **kw),  # type: ignore[arg-type]
        row({34: "INF", 43: "INF", 44: "", 45: "Shipper Paid Information", 52: "12.34"}, **kw),  # type: ignore[arg-type]
        row(charge("RDR", "Delivery Area Surcharge - Residential", "5.50"), **kw),  # type: ignore[arg-type]
    ]


def comparable(frame: pd.DataFrame) -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(r) for r in frame.drop(columns=["line"]).astype(object).itertuples(index=False)]


def test_maps_each_row_to_its_charge_type(tmp_path: Path) -> None:
    result = ups_billing.read(write(tmp_path, standard_lines()))
    f = result.frame
    assert list(f["charge_type"]) == ["transportation", "fuel", "residential", "delivery_area"]
    assert list(f["amount_cents"]) == [1234, 231, 595, 550]
    assert list(f["line"]) == [1, 2, 3, 5]
    t = f.iloc[0]
    assert (t["billed_weight"], t["weight_unit"], t["zone"], t["service"]) == ("10", "lb", "004", "3")
    assert t["invoice_date"] == pd.Timestamp("2026-09-05")
    assert t["ship_date"] == pd.Timestamp("2026-09-01")
    assert (t["carrier"], t["account_number"], t["currency"], t["invoice_number"]) == ("ups", "UPS-001", "USD", "INV-1")
    # weight and zone only on the transportation line; the service on every line of the parcel
    assert f["billed_weight"].iloc[1:].isna().all()
    assert f["zone"].iloc[1:].isna().all()
    assert list(f["service"]) == ["3"] * 4
    assert list(f["description"]) == ["Ground", "Fuel Surcharge", "Residential Surcharge",
                                      "Delivery Area Surcharge - Residential"]
    assert result.read == 5
    assert result.errors == []
    assert not result.unknown_codes
    assert result.notes == ["1 informational (INF) row(s) skipped: not charges"]
    assert f["amount_cents"].dtype == "int64"
    assert f["invoice_date"].dtype == "datetime64[ns]"


def test_semicolon_export_with_day_first_dates_reads_the_same(tmp_path: Path) -> None:
    comma = ups_billing.read(write(tmp_path, standard_lines(), "a.csv")).frame
    semi_path = write(tmp_path, standard_lines(sep=";", dmy=True), "b.csv")
    assert ";05/09/2026;" in semi_path.read_text()
    assert ups_billing.sniff(semi_path.read_bytes())
    assert comparable(ups_billing.read(semi_path).frame) == comparable(comma)


def test_rows_trimmed_of_trailing_empty_columns_read_the_same(tmp_path: Path) -> None:
    full = ups_billing.read(write(tmp_path, standard_lines(), "a.csv")).frame
    trimmed_lines = standard_lines(trim=True)
    assert len(trimmed_lines[1].split(",")) == 117  # ends at Shipment Date
    trimmed = ups_billing.read(write(tmp_path, trimmed_lines, "b.csv")).frame
    assert comparable(trimmed) == comparable(full)


def test_a_trimmed_first_row_shorter_than_later_rows_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first row ends at column 52; a later one reaches column 174: every chunk must read."""
    monkeypatch.setattr(columns, "CHUNK_ROWS", 7)
    lines = [row({116: ""}, trim=True)]
    lines += [row(trim=True) for _ in range(20)]
    lines.append(row(charge("CADJ", "Credit Adjustment", "-5.00", klass="MSC", c35="CADJ", c174="ADJ-1"), trim=True))
    lines += [row({116: ""}, trim=True) for _ in range(9)]
    assert len(lines[0].split(",")) == 53
    assert len(lines[21].split(",")) == 175
    result = ups_billing.read(write(tmp_path, lines))
    assert result.errors == []
    assert len(result.frame) == 31
    assert list(result.frame["line"]) == list(range(1, 32))
    credit = result.frame.iloc[21]
    assert (credit["charge_type"], credit["amount_cents"], credit["reference"]) == ("credit", -500, "ADJ-1")


def test_bom_crlf_and_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    lines = standard_lines()
    lines.insert(2, "")
    result = ups_billing.read(write(tmp_path, lines, bom=True, crlf=True))
    assert list(result.frame["line"]) == [1, 2, 4, 6]
    assert result.frame["invoice_number"].eq("INV-1").all()
    assert "1 blank line(s) skipped" in result.notes


def test_unknown_charge_codes_are_kept_as_other_and_counted(tmp_path: Path) -> None:
    lines = [row(), row(charge("ZZQ", "Mystery Charge", "3.00")), row(charge("ZZQ", "Mystery Charge", "3.00")),
             row(charge("", "", "1.00", klass="QQQ"))]
    result = ups_billing.read(write(tmp_path, lines))
    other = result.frame[result.frame["charge_type"] == "other"]
    assert list(other["description"]) == ["Mystery Charge", "Mystery Charge", None]
    assert result.unknown_codes == {"ups:ZZQ": 2, "ups:QQQ": 1}
    assert result.errors == []


def test_adjustments_map_like_shipments_except_address_corrections(tmp_path: Path) -> None:
    lines = [
        row({34: "ADJ", 35: "SCC", 52: "4.00"}),                               # shipping charge correction: freight
        row(charge("", "Address Correction Ground", "24.50", klass="FRT", c34="ADJ", c35="ADC")),
        row(charge("ADC", "Address Correction Ground", "24.50", c34="ADJ", c35="ADC")),
        row(charge("RES", "Residential Surcharge", "5.95", c34="ADJ", c35="RADJ")),
        row(charge("TAX", "Sales Tax", "1.10", klass="TAX")),
        row(charge("", "Customs Duty", "7.00", klass="GOV")),
        row(charge("", "Brokerage", "8.00", klass="BRK")),
        row(charge("EVS", "Declared Value", "3.45")),
        row(charge("LPS", "Large Package Surcharge", "95.00")),
        row(charge("AHW", "Additional Handling Surcharge - Weight", "31.50")),
        row(charge("DCS", "Delivery Confirmation Signature", "6.55")),
        row(charge("SDY", "Saturday Delivery", "16.00")),
    ]
    f = ups_billing.read(write(tmp_path, lines)).frame
    assert list(f["charge_type"]) == [
        "transportation", "address_correction", "address_correction", "residential", "other", "other", "other",
        "declared_value", "large_package", "additional_handling", "signature", "saturday"]
    assert f["billed_weight"].iloc[0] == "10"
    assert f["billed_weight"].iloc[1:].isna().all()


def test_negative_net_amounts_are_credits_with_the_carrier_reference(tmp_path: Path) -> None:
    lines = [
        row(charge("", "Guaranteed Service Refund", "-16.30", klass="FRT", c34="ADJ", c35="GSR", c174="ADJ-4220511")),
        row(charge("RES", "Residential Surcharge", "-5.95", c34="ADJ", c35="RADJ")),
        row({34: "ADJ", 35: "VOID", 52: "-12.34", 174: "VOID-77"}),
    ]
    f = ups_billing.read(write(tmp_path, lines)).frame
    assert list(f["charge_type"]) == ["credit"] * 3
    assert list(f["amount_cents"]) == [-1630, -595, -1234]
    assert list(f["reference"]) == ["ADJ-4220511", None, "VOID-77"]
    assert list(f["description"]) == ["GSR Guaranteed Service Refund", "RADJ Residential Surcharge", "VOID Ground"]
    assert f["billed_weight"].isna().all()
    assert f["zone"].isna().all()


def test_kilograms_and_thousands_separators(tmp_path: Path) -> None:
    lines = [row({28: "4.5", 29: "K", 52: '"1,234.50"'})]
    f = ups_billing.read(write(tmp_path, lines)).frame
    assert (f["billed_weight"].iloc[0], f["weight_unit"].iloc[0], f["amount_cents"].iloc[0]) == ("4.5", "kg", 123450)


def test_bad_rows_are_reported_with_line_column_and_invoice_and_left_out(tmp_path: Path) -> None:
    lines = [
        row(),
        row({52: "12.3x"}),
        row({20: "", 13: "", 34: "XYZ"}),   # no tracking number and no UPS charge category: not a row
        row({4: "2026-13-45"}),
        row({116: "05/09/2026"}),          # a day-first date in a comma file: not guessed
        row({28: "ten"}),
        row({29: "X"}),
        row({5: ""}),
        row({52: ""}),
        row(charge("FSC", "Fuel Surcharge", "2.31", klass="FSC")),
    ]
    result = ups_billing.read(write(tmp_path, lines))
    assert list(result.frame["line"]) == [1, 3, 10]      # line 3: an account-level row (no parcel)
    assert result.frame["tracking_number"].tolist() == [TRACK, None, TRACK]
    got = [(e.line, e.column, e.invoice_number) for e in result.errors]
    assert got == [
        (2, "Net Amount (col 52)", "INV-1"),
        (4, "Invoice Date (col 4)", "INV-1"),
        (5, "Shipment Date (col 116)", "INV-1"),
        (6, "Billed Weight (col 28)", "INV-1"),
        (7, "Billed Weight Unit of Measure (col 29)", "INV-1"),
        (8, "Invoice Number (col 5)", None),
        (9, "Net Amount (col 52)", "INV-1"),
    ]
    reasons = {e.line: e.reason for e in result.errors}
    assert reasons[2] == "not an amount: '12.3x'"
    assert reasons[4] == "not a date (YYYY-MM-DD): '2026-13-45'"
    assert reasons[5] == "not a date (YYYY-MM-DD): '05/09/2026'"
    assert reasons[9] == "missing value"
    assert result.read == 10


def test_a_decimal_comma_in_a_semicolon_file_is_an_error_not_a_hundredfold_amount(tmp_path: Path) -> None:
    result = ups_billing.read(write(tmp_path, [row(sep=";", dmy=True), row({52: "12,34"}, sep=";", dmy=True)]))
    assert len(result.frame) == 1
    assert [(e.line, e.reason) for e in result.errors] == [(2, "not an amount: '12,34'")]


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the file is empty"),
    (b"\n\n  \n", "the file is empty"),
    (b"\x00\x01\x02binary\x00", "binary content"),
    (b"PK\x03\x04rest-of-zip", "Excel workbook"),
    (b"%PDF-1.7\n", "a PDF"),
    (b"\xff\xfe2\x00.\x001\x00", "UTF-16"),
    (b"invoice_number,invoice_date,carrier,tracking_number,charge_type,amount\nI-1,2026-09-05,ups,1Z1,fuel,1.00\n",
     "not UPS Billing Data: line 1 has 6 columns"),
    (b"a;b;c\n", "not UPS Billing Data"),
])
def test_files_that_are_not_ups_billing_data_are_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(FileRefused, match=reason.replace("(", r"\(")):
        ups_billing.read(path)


def test_refused_when_column_4_is_not_a_date(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match=r"column 4 \(Invoice Date\) is not a date"):
        ups_billing.read(write(tmp_path, [row({4: "yesterday"})]))


def test_a_missing_file_is_refused_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="cannot read"):
        ups_billing.read(tmp_path / "nope.csv")


# ---------------------------------------------------------------------------------------------
# Facts of real UPS Billing Data exports (formats.md, issue 11). The rows below are shaped like the
# acceptance set real-formats/ (built from UPS Billing Data v2.1 as UPS exports it): Shipment Date
# (116) empty, zero-padded FRT service codes with the service name, a negative ACC SIM "Special
# Incentive Modifier" after the published FRT price, INF rows, and account-level rows without a
# tracking number.

def real_row(values: dict[int, str] | None = None) -> str:
    """A row as UPS exports it: Shipment Date empty, the ship date in Transaction Date (11)."""
    return row({116: "", 11: "2026-10-09", 44: "003", 45: "Ground Residential", 52: "20.49", 10: "",
                **(values or {})})


def account_row(detail: str, klass: str, code: str, text_: str, amount: str, **more: str) -> str:
    """An account-level row: no tracking number, no lead shipment, no weight or zone."""
    values = {20: "", 13: "", 11: "2026-10-14", 34: "MIS", 35: detail, 43: klass, 44: code, 45: text_,
              52: amount, 26: "", 27: "", 28: "", 29: "", 33: "", 116: ""}
    values.update({int(k[1:]): v for k, v in more.items()})
    return row(values)


def test_incentive_rows_fold_into_the_transportation_price_and_are_never_credits(tmp_path: Path) -> None:
    lines = [
        real_row(),
        row(charge("SIM", "Special Incentive Modifier", "-5.26", c116="", c11="2026-10-09")),
        row(charge("SIM", "Special Incentive Modifier", "0.00", klass="INF", c34="SHP", c116="")),
        row(charge("RES", "Residential Surcharge", "5.95", c116="", c11="2026-10-09")),
    ]
    result = ups_billing.read(write(tmp_path, lines))
    f = result.frame
    assert list(f["charge_type"]) == ["transportation", "residential"]
    assert list(f["amount_cents"]) == [2049 - 526, 595]          # published + incentive = the net price
    assert "credit" not in set(f["charge_type"])
    assert any("incentive" in n for n in result.notes)


def test_an_incentive_without_its_freight_row_stays_a_transportation_line_not_a_credit(tmp_path: Path) -> None:
    f = ups_billing.read(write(tmp_path, [row(charge("SIM", "Special Incentive Modifier", "-5.26"))])).frame
    assert list(f["charge_type"]) == ["transportation"] and list(f["amount_cents"]) == [-526]


def test_ship_date_is_the_transaction_date_when_the_shipment_date_is_empty(tmp_path: Path) -> None:
    lines = [real_row(),
             row(charge("", "Guaranteed Service Refund", "-16.30", klass="FRT", c34="ADJ", c35="GSR",
                        c116="", c11="2026-11-15"))]
    f = ups_billing.read(write(tmp_path, lines)).frame
    assert f["ship_date"].iloc[0] == pd.Timestamp("2026-10-09")
    assert pd.isna(f["ship_date"].iloc[1])     # on an adjustment row column 11 is the adjustment's date


def test_zero_padded_service_codes_are_read_as_the_service(tmp_path: Path) -> None:
    lines = [real_row(), row(charge("FSC", "Fuel Surcharge", "2.31", klass="FSC", c116=""))]
    f = ups_billing.read(write(tmp_path, lines)).frame
    assert list(f["service"]) == ["3", "3"]
    assert f["description"].iloc[0] == "Ground Residential"


def test_account_level_rows_are_account_charges_of_their_invoice(tmp_path: Path) -> None:
    lines = [
        real_row(),
        account_row("SVCH", "FRT", "NSS", "Payment Processing Fee", "2.23"),
        account_row("SVCH", "FRT", "FSC", "Fuel Surcharge", "1.91"),
        account_row("OCG", "ACC", "OFW", "Future Day Pickup - Web Request", "8.60", c34="ADJ", c13="29PTZ4H0F0G"),
        account_row("OCG", "FSC", "FSC", "Fuel Surcharge", "1.23", c34="ADJ", c13="29PTZ4H0F0G"),
        account_row("CADJ", "MSC", "", "Billing Adjustment for  W/E 10/31/2026", "0.00", c34="ADJ"),
    ]
    result = ups_billing.read(write(tmp_path, lines))
    f = result.frame
    assert not result.errors
    acct = f[f["tracking_number"].isna()]
    assert list(acct["charge_type"]) == ["other", "fuel", "other", "fuel", "other"]
    assert list(acct["amount_cents"]) == [223, 191, 860, 123, 0]
    assert list(acct["reference"]) == [None, None, "29PTZ4H0F0G", "29PTZ4H0F0G", None]
    assert acct["service"].isna().all() and acct["ship_date"].isna().all()
    assert not result.unknown_codes


def test_a_file_of_only_account_level_rows_is_still_ups_billing_data(tmp_path: Path) -> None:
    path = write(tmp_path, [account_row("SVCH", "FRT", "NSS", "Payment Processing Fee", "2.23"),
                            account_row("SVCH", "FRT", "SCH", "Service Charge", "12.00")])
    assert ups_billing.sniff(path.read_bytes())
    f = ups_billing.read(path).frame
    assert list(f["amount_cents"]) == [223, 1200] and f["tracking_number"].isna().all()


def test_adjustment_rows_keep_what_they_are(tmp_path: Path) -> None:
    lines = [
        row({34: "ADJ", 35: "SCC", 45: "Shipping Charge Correction Ground", 52: "4.00"}),
        row(charge("AHG", "Additional Handling - Dimension", "18.00", c34="ADJ", c35="SCC")),
        row(charge("RES", "Residential Surcharge", "5.95", c34="ADJ", c35="RADJ")),
        row(charge("", "Address Correction Ground", "24.50", klass="FRT", c34="ADJ", c35="ADC")),
        row({34: "RTN", 35: "RTS", 45: "Ground Undeliverable Return", 52: "11.20"}),
        real_row(),
    ]
    f = ups_billing.read(write(tmp_path, lines)).frame
    assert list(f["charge_type"]) == ["transportation", "additional_handling", "residential",
                                      "address_correction", "transportation", "transportation"]
    assert list(f["adjustment"]) == ["charge_correction", "charge_correction", "residential_adjustment",
                                     "address_correction", "return", None]


def test_rows_that_do_not_add_up_to_the_invoice_amount_are_noted(tmp_path: Path) -> None:
    lines = [real_row({10: "30.00"}), row(charge("RES", "Residential Surcharge", "5.95", c10="30.00"))]
    notes = ups_billing.read(write(tmp_path, lines)).notes
    assert any("add up to 26.44" in n and "says 30.00" in n for n in notes)
    lines = [real_row({10: "26.44"}), row(charge("RES", "Residential Surcharge", "5.95", c10="26.44"))]
    assert not any("add up" in n for n in ups_billing.read(write(tmp_path, lines)).notes)
