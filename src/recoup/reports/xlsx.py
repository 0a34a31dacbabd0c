"""The monthly report as an XLSX workbook (openpyxl).

Sheets: Summary (per carrier and currency, grouped by currency, then a TOTAL row per currency, the
date rules and a bar chart per currency of what was recovered (credited) by carrier), Claims,
Findings, Credits, Unmatched credits, SLA, Near deadline, Leakage (windows closed unclaimed in the
month, with why). Amounts are written as exact numbers (the report's Decimals, which openpyxl writes
digit for digit) with a number format naming the row's currency (``#,##0.00 "USD"``); rates as
ratios formatted ``0.0%``; dates as dates. Beside each carrier code is the carrier's name, beside
each finding kind its name. The TOTAL rows are formulas (``SUMIF`` over the carrier rows of their
currency; the recovery rate their quotient), so a person who edits a row sees the total follow.
Header rows are frozen, filtered and repeated on every printed page; sheets print landscape, one
page wide. Text from carriers is always written as text cells, never formulas, whatever it starts
with (see :mod:`recoup.reports.cells`); the only formulas are the totals recoup writes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from recoup.reports.cells import force_text
from recoup.reports.monthly_model import COLUMNS, DATE_RULES, SECTIONS, TOTAL, Col, MonthlyReport

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


def carrier_name(code: str | None) -> str | None:
    """The carrier's name from the registry (``ups`` → ``UPS``); the code itself for a carrier recoup
    does not know."""
    if not code or code == TOTAL:
        return None
    try:
        from recoup.carriers.registry import REGISTRY
    except ImportError:           # pragma: no cover - the registry moved: codes are still right
        return code
    spec = REGISTRY.get(code)
    return spec.name if spec is not None else code


def kind_name(kind: str | None) -> str | None:
    """A finding kind for people: ``late_delivery`` → ``Late delivery``."""
    return kind.replace("_", " ").capitalize() if kind else None


NAMES = {"carrier": (Col("carrier_name", "carrier name"), carrier_name),
         "kind": (Col("kind_name", "kind name"), kind_name)}


def with_names(cols: list[Col], rows: list[dict[str, Any]]) -> tuple[list[Col], list[dict[str, Any]]]:
    """A name column after each code column (carrier, kind), and the rows with the names."""
    out_cols: list[Col] = []
    for c in cols:
        out_cols.append(c)
        if c.key in NAMES:
            out_cols.append(NAMES[c.key][0])
    keys = [k for k in NAMES if any(c.key == k for c in cols)]
    out_rows = [{**r, **{NAMES[k][0].key: NAMES[k][1](r.get(k)) for k in keys}} for r in rows]
    return out_cols, out_rows


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
    ws.print_title_rows = f"{header_row}:{header_row}"   # repeated on every printed page


def _page(ws: Worksheet, title: str) -> None:
    """Landscape, one page wide (as many pages down as it takes)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = title
    ws.oddFooter.right.text = "page &P of &N"


def _summary_formulas(ws: Worksheet, cols: list[Col], first: int, last: int, totals: range) -> None:
    """The TOTAL rows as formulas: each count and amount the SUMIF of its currency's carrier rows
    (``first``..``last``), the recovery rate credited / claimed of the row."""
    at = {c.key: get_column_letter(j) for j, c in enumerate(cols, 1)}
    cur = at["currency"]
    for row in totals:
        for j, c in enumerate(cols, 1):
            L = get_column_letter(j)
            if c.kind in ("int", "money"):
                ws.cell(row=row, column=j).value = (f"=SUMIF(${cur}${first}:${cur}${last},${cur}{row},"
                                                    f"{L}${first}:{L}${last})")
            elif c.key == "recovery_rate":
                cr, cl = f"{at['credited']}{row}", f"{at['claimed']}{row}"
                ws.cell(row=row, column=j).value = f'=IF({cl}=0,"",{cr}/{cl})'


def _summary_charts(ws: Worksheet, cols: list[Col], blocks: list[tuple[str, int, int]], anchor_row: int) -> None:
    """A bar chart per currency: recovered (credited) by carrier, from the carrier rows of the sheet."""
    at = {c.key: j for j, c in enumerate(cols, 1)}
    for n, (currency, first, last) in enumerate(blocks):
        chart = BarChart()
        chart.type = "col"
        chart.title = f"Recovered (credited) by carrier, {currency}"
        chart.y_axis.title = currency
        chart.y_axis.numFmt = "#,##0"
        chart.legend = None
        chart.add_data(Reference(ws, min_col=at["credited"], min_row=first, max_row=last), titles_from_data=False)
        chart.set_categories(Reference(ws, min_col=at["carrier_name"], min_row=first, max_row=last))
        chart.height, chart.width = 7.5, 14
        ws.add_chart(chart, f"{get_column_letter(1 + 9 * n)}{anchor_row}")


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
                        f"added across currencies; the TOTAL rows are formulas over the rows above them.")
            carriers = sorted(report.summary, key=lambda r: (r["currency"], r["carrier"]))  # one block per currency
            cols, rows = with_names(COLUMNS[sec], carriers + report.totals)
            _write_table(ws, cols, rows, SUMMARY_HEADER_ROW, autofilter=False)  # totals stay last
            first, last = SUMMARY_HEADER_ROW + 1, SUMMARY_HEADER_ROW + len(carriers)
            if carriers:
                _summary_formulas(ws, cols, first, last, range(last + 1, last + 1 + len(report.totals)))
            ws.freeze_panes = ws.cell(row=SUMMARY_HEADER_ROW + 1, column=4)
            note = SUMMARY_HEADER_ROW + len(rows) + 3
            ws.cell(row=note, column=1, value="Which date puts a row in the month").font = TOTAL_FONT
            for k, (what, rule) in enumerate(DATE_RULES, note + 1):
                ws.cell(row=k, column=1, value=what)
                ws.cell(row=k, column=4, value=rule)
            blocks: list[tuple[str, int, int]] = []
            for i, r in enumerate(carriers, first):
                if blocks and blocks[-1][0] == r["currency"]:
                    blocks[-1] = (r["currency"], blocks[-1][1], i)
                else:
                    blocks.append((r["currency"], i, i))
            _summary_charts(ws, cols, blocks, note + len(DATE_RULES) + 2)
        else:
            cols, rows = with_names(COLUMNS[sec], report.rows(sec))
            _write_table(ws, cols, rows, 1)
            ws.freeze_panes = "A2"
    wb.properties.title = title
    wb.properties.creator = "recoup"
    path = Path(path)
    wb.save(path)
    return path
