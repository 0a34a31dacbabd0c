"""Printing listings: rich tables on a terminal, CSV and JSON for scripts (data alone on stdout).

``--format csv`` is machine-readable and keeps every value exact: text starting with ``=``, ``+``,
``-`` or ``@`` is not escaped (a script must get the tracking number or reference it stored). The
CSV written for spreadsheets is the monthly report's, which neutralises such text
(:mod:`recoup.reports.cells`); import ``--format csv`` into a spreadsheet as text.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

FORMATS = ("table", "csv", "json")


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


#: values that are ratios or measures, not money: JSON numbers (``0.9583``), where amounts stay exact
#: strings (``"1234.50"``: money is never a float)
RATIOS = frozenset({"on_time_rate", "recovery_rate", "filed_in_time_rate", "avg_days_late"})


def json_ratio(v: Any) -> float | None:
    """A ratio for JSON: a number (a Decimal of 4 places is exact enough as a float), ``None`` as null."""
    return None if v is None or v == "" else float(v)


def _json(k: str, v: Any) -> Any:
    return json_ratio(v) if k in RATIOS and isinstance(v, (Decimal, int, float)) else _plain(v)


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def emit(rows: Sequence[dict[str, Any]], fmt: str, *, columns: Sequence[str] | None = None,
         title: str | None = None) -> None:
    cols = list(columns) if columns else (list(rows[0].keys()) if rows else [])
    if fmt == "json":
        sys.stdout.write(json.dumps([{k: _json(k, v) for k, v in r.items()} for r in rows], indent=1) + "\n")
        return
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else (str(r.get(c)).lower() if isinstance(r.get(c), bool)
                                                      else _plain(r.get(c))) for c in cols])
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    if not rows:
        console.print(f"[dim]{title + ': ' if title else ''}nothing to show[/dim]")
        return
    t = Table(title=title, header_style="bold")
    for c in cols:
        numeric = c in ("amount", "claimed", "approved", "credited", "id", "claims", "count", "rate") or \
            c.endswith(("_amount", "_count"))
        t.add_column(c, justify="right" if numeric else "left", overflow="fold")
    for r in rows:
        t.add_row(*["" if r.get(c) is None else ("yes" if r.get(c) is True else "no" if r.get(c) is False
                                                  else str(_plain(r.get(c)))) for c in cols])
    console.print(t)
