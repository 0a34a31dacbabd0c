"""The backtest's files: ``backtest-FROM-TO.{xlsx,html,json}``, with the monthly report's writers'
helpers (:mod:`recoup.reports.xlsx` tables, :mod:`recoup.reports.html` tables and style).

Sheets / sections: Summary (per carrier, kind and currency, then a TOTAL row per currency), Leakage
(one row per carrier, kind, currency and reason, reconciled to the summary's ``leaked``), Filed (each
claim the dry-run channel would have filed, and the day), Notes (what the replay cannot know).
"""

from __future__ import annotations

import json
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from recoup.backtest import BacktestResult
from recoup.reports.monthly_model import Col

SUMMARY = [
    Col("carrier", "carrier"), Col("kind", "kind"), Col("currency", "currency"), Col("findings", "findings", "int"),
    Col("recoverable", "recoverable", "money"), Col("filed_in_time", "filed in time", "money"),
    Col("filed_in_time_rate", "filed in time %", "rate"), Col("credited_unfiled", "credited before filing", "money"),
    Col("leaked", "leaked", "money"), Col("still_claimable", "still claimable", "money"),
]
LEAKAGE = [Col("carrier", "carrier"), Col("kind", "kind"), Col("currency", "currency"),
           Col("reason", "why it leaked", width=50), Col("amount", "leaked", "money")]
FILED = [Col("claim_id", "claim", "int"), Col("carrier", "carrier"), Col("kind", "kind"),
         Col("tracking_number", "tracking number", width=22), Col("amount", "amount", "money"),
         Col("currency", "currency"), Col("deadline", "deadline", "date"), Col("day", "would have filed", "date")]


def summary_rows(r: BacktestResult) -> list[dict[str, Any]]:
    return [*r.rows, *r.totals]


def leakage_rows(r: BacktestResult) -> list[dict[str, Any]]:
    out = []
    for row in r.rows:
        for reason, amount in sorted(row["leaked_because"].items()):
            out.append({"carrier": row["carrier"], "kind": row["kind"], "currency": row["currency"],
                        "reason": reason, "amount": amount})
    return out


def filed_rows(r: BacktestResult) -> list[dict[str, Any]]:
    return [{"claim_id": f.claim_id, "carrier": f.carrier, "kind": f.kind, "tracking_number": f.tracking_number,
             "amount": Decimal(f.amount), "currency": f.currency, "deadline": f.deadline, "day": f.day}
            for f in r.filed]


def stem(r: BacktestResult) -> str:
    return f"backtest-{r.date_from.isoformat()}-{r.date_to.isoformat()}"


def write_json(r: BacktestResult, path: Path) -> Path:
    path.write_text(json.dumps(r.as_dict(), indent=1) + "\n", encoding="utf-8")
    return path


def write_xlsx(r: BacktestResult, path: Path) -> Path:
    from recoup.reports.xlsx import TITLE_FONT, _page, _write_table

    wb = Workbook()
    title = f"Backtest {r.date_from.isoformat()} to {r.date_to.isoformat()}"
    ws = wb.active
    assert ws is not None
    ws.title = "Summary"
    _page(ws, f"{title} — Summary")
    ws["A1"] = title
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("What recoup would have filed before each window closed, replaying the store day by day; "
                "amounts per currency, never added across currencies.")
    _write_table(ws, SUMMARY, summary_rows(r), 4, autofilter=False)
    for name, cols, rows in (("Leakage", LEAKAGE, leakage_rows(r)), ("Filed", FILED, filed_rows(r))):
        ws = wb.create_sheet(name)
        _page(ws, f"{title} — {name}")
        _write_table(ws, cols, rows, 1)
        ws.freeze_panes = "A2"
    ws = wb.create_sheet("Notes")
    for i, note in enumerate([*r.notes, *r.problems], 1):
        ws.cell(row=i, column=1, value=note)
    wb.properties.title = title
    wb.properties.creator = "recoup"
    wb.save(path)
    return path


def write_html(r: BacktestResult, path: Path) -> Path:
    from recoup.reports.html import CSS, table

    title = f"Backtest {r.date_from.isoformat()} to {r.date_to.isoformat()}"
    notes = "".join(f"<li>{escape(n)}</li>" for n in [*r.notes, *r.problems])
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)} — recoup</title><style>{CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1><p class=\"meta\">{r.days} days replayed as the data arrived · "
        f"contracts {escape(str(r.contracts))} · {len(r.filed):,} claims recoup would have filed · "
        "amounts per currency</p></header>",
        "<section><h2>Recoverable money and where it went</h2>",
        table(SUMMARY, summary_rows(r), "Nothing recoverable in the period."), "</section>",
        "<section><h2>Leakage: windows that closed unclaimed, and why</h2>",
        table(LEAKAGE, leakage_rows(r), "Nothing leaked."), "</section>",
        f"<section><h2>What the replay cannot know</h2><ul>{notes}</ul></section>",
        f'<footer><p class="note">Every claim recoup would have filed, with its day, is in {escape(stem(r))}.xlsx '
        "and .json.</p></footer>", "</body></html>",
    ]
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def write_backtest(r: BacktestResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    base = stem(r)
    return [write_xlsx(r, out / f"{base}.xlsx"), write_html(r, out / f"{base}.html"),
            write_json(r, out / f"{base}.json")]
