"""The monthly report as an XLSX workbook (openpyxl).

Sheets: Summary (per carrier and currency, then a TOTAL row per currency, then the date rules),
Claims, Findings, Credits, Unmatched credits, SLA, Near deadline, Leakage (windows closed unclaimed in
the month, with why). Amounts are written as exact
numbers (the report's Decimals, which openpyxl writes digit for digit) with a number format naming
the row's currency (``#,##0.00 "USD"``); rates as ratios formatted ``0.0%``; dates as dates. Header
rows are frozen and filtered; sheets print landscape, one page wide. Text is always written as text
cells, never formulas, whatever it starts with (see :mod:`recoup.reports.cells`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from recoup.reports.cells import force_text
from recoup.reports.monthly import COLUMNS, DATE_RULES, SECTIONS, TOTAL, Col, MonthlyReport

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
TOTAL_FONT = Font(bold=True)
TOTAL_FILL = PatternFill("solid", fgColor="E8EEF5")
TOTAL_BORDER = Border(top=Side(style="thin", color="1F3A5F"))
TITLE_FONT = Font(bold=True, size=14)
FORMATS = {"int": "#,##0", "rate": "0.0%", "days": "0.0", "date": "yyyy-mm-dd"}
SUMMARY_HEADER_ROW = 4


def money_format(currency: str | None) -> str:
    cur = (currency or "").replace('"', "")
    return f'#,##0.00 "{cur}"' if cur else "#,##0.00"


def _display_len(v: Any, c: Col) -> int:
    if v is None:
        return 0
    if c.kind == "money":
        return len(f"{v:,.2f}") + 4
    if c.kind == "rate":
        return 7
    if isinstance(v, dt.date):
        return 10
    return len(str(v))


def _header_len(h: str) -> int:
    """Headers wrap (two lines at most): the width of the longer half, or the longest word."""
    return max(max(len(w) for w in h.split()), (len(h) + 1) // 2 + 1)


def _write_table(ws: Worksheet, cols: list[Col], rows: list[dict[str, Any]], header_row: int, *,
                 autofilter: bool = True) -> None:
    for j, c in enumerate(cols, 1):
        cell = ws.cell(row=header_row, column=j, value=c.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [max(_header_len(c.header), 6) for c in cols]
    for i, r in enumerate(rows, header_row + 1):
        total = r.get("carrier") == TOTAL
        for j, c in enumerate(cols, 1):
            v = r.get(c.key)
            if isinstance(v, Decimal) and c.kind not in ("money", "rate", "days"):
                v = str(v)
            cell = ws.cell(row=i, column=j)
            force_text(cell, v)  # carrier text (descriptions, references) never becomes a formula
            if c.kind == "money":
                cell.number_format = money_format(r.get("currency"))
            elif c.kind in FORMATS:
                cell.number_format = FORMATS[c.kind]
            if c.key == "id" or c.key.endswith("_id"):
                cell.number_format = "0"
            if c.key == "reason":
                cell.alignment = Alignment(wrap_text=False)
            if total:
                cell.font, cell.fill, cell.border = TOTAL_FONT, TOTAL_FILL, TOTAL_BORDER
            widths[j - 1] = max(widths[j - 1], _display_len(v, c))
    for j, c in enumerate(cols, 1):
        ws.column_dimensions[get_column_letter(j)].width = c.width or min(max(widths[j - 1] + 2, 8), 50)
    if autofilter:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(cols))}{header_row + max(len(rows), 1)}"
    ws.row_dimensions[header_row].height = 30


def _page(ws: Worksheet, title: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = title
    ws.oddFooter.right.text = "page &P of &N"


def write_xlsx(report: MonthlyReport, path: Path) -> Path:
    wb = Workbook()
    title = f"Recovery report {report.month}"
    for n, (sec, name) in enumerate(SECTIONS.items()):
        ws = wb.active if n == 0 else wb.create_sheet(name)
        assert ws is not None
        ws.title = name
        _page(ws, f"{title} — {name}")
        if sec == "summary":
            ws["A1"] = title
            ws["A1"].font = TITLE_FONT
            ws["A2"] = (f"{report.first.isoformat()} to {report.last.isoformat()}; near-deadline flags as of "
                        f"{report.as_of.isoformat()} ({report.near_days} days). Amounts per currency, never "
                        f"added across currencies.")
            rows = report.rows("summary")
            _write_table(ws, COLUMNS[sec], rows, SUMMARY_HEADER_ROW, autofilter=False)  # totals stay last
            ws.freeze_panes = ws.cell(row=SUMMARY_HEADER_ROW + 1, column=3)
            note = SUMMARY_HEADER_ROW + len(rows) + 3
            ws.cell(row=note, column=1, value="Which date puts a row in the month").font = TOTAL_FONT
            for k, (what, rule) in enumerate(DATE_RULES, note + 1):
                ws.cell(row=k, column=1, value=what)
                ws.cell(row=k, column=3, value=rule)
        else:
            _write_table(ws, COLUMNS[sec], report.rows(sec), 1)
            ws.freeze_panes = "A2"
    wb.properties.title = title
    wb.properties.creator = "recoup"
    path = Path(path)
    wb.save(path)
    return path
