"""Listings people read (``findings``, ``claims list``): ``--columns``, ``--sort``, ``--limit`` for
every format, and for ``table`` a table that fits the terminal (120 columns in a pipe): one line per
row, columns dropped in a set order when they do not fit, long text cut with an ellipsis, amounts
with thousands separators, instants without seconds, and a total per currency under it. CSV and
JSON keep the full data (every field, exact values) of the rows selected.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from recoup.output import emit

PIPE_WIDTH = 120
AMOUNT_COLUMNS = ("amount", "approved", "credited", "claimed")


@dataclass(frozen=True)
class Listing:
    """How one listing shows as a table: its default columns, which give way first when the table is
    too wide (first in ``drop`` goes first), and the one column that shrinks (long text)."""

    columns: tuple[str, ...]
    drop: tuple[str, ...]
    shrink: str | None = None
    shrink_min: int = 20


def parse_columns(value: str | None, available: Sequence[str], default: Sequence[str]) -> list[str]:
    if not value:
        return list(default)
    cols = [c.strip().lower() for c in value.split(",") if c.strip()]
    bad = [c for c in cols if c not in available]
    if bad or not cols:
        raise typer.BadParameter(f"unknown column(s) {', '.join(bad) or '(none)'}: one of {', '.join(available)}",
                                 param_hint="--columns")
    return cols


def sort_rows(rows: list[dict[str, Any]], key: str | None, available: Sequence[str]) -> list[dict[str, Any]]:
    """``--sort COL`` ascending, ``--sort -COL`` descending; amounts as numbers; empty values last."""
    if not key:
        return rows
    desc = key.startswith("-")
    col = key.lstrip("-+").strip().lower()
    if col not in available:
        raise typer.BadParameter(f"unknown column {col!r}: one of {', '.join(available)} (prefix - to reverse)",
                                 param_hint="--sort")

    def k(r: dict[str, Any]) -> Any:
        v = r.get(col)
        if col in AMOUNT_COLUMNS and v is not None:
            try:
                return Decimal(str(v))
            except InvalidOperation:
                return Decimal(0)
        if isinstance(v, bool):
            return int(v)
        return v if isinstance(v, (int, float, Decimal)) else str(v)

    present = [r for r in rows if r.get(col) is not None]
    missing = [r for r in rows if r.get(col) is None]
    return sorted(present, key=k, reverse=desc) + missing


def check_limit(limit: int | None) -> int | None:
    if limit is not None and limit < 0:
        raise typer.BadParameter("a number of rows, 0 or more (0: all)", param_hint="--limit")
    return limit or None


def page(sort: str | None, limit: int | None, pushable: frozenset[str]) -> Any:
    """The :class:`recoup.queries.Page` to ask the database for: the limit (and the sort, when it is on a
    column SQL orders as :func:`sort_rows` does) pushed down; None when every row must be read."""
    from recoup.queries import Page

    n = check_limit(limit)
    col = sort.lstrip("-+").strip().lower() if sort else None
    if col is not None and col not in pushable:
        return None
    return Page(limit=n, sort=sort) if n is not None else None


def show(rows: list[dict[str, Any]], fmt: str, listing: Listing, *, title: str,
         columns: str | None = None, sort: str | None = None, limit: int | None = None,
         total: int | None = None) -> None:
    """Print a listing; ``total`` is the count of every matching row when the database returned a page."""
    available = list(rows[0]) if rows else list(listing.columns)
    for c in listing.columns:
        if c not in available:
            available.append(c)
    chosen = parse_columns(columns, available, listing.columns if fmt == "table" else available)
    rows = sort_rows(rows, sort, available)
    total = max(total or 0, len(rows))
    n = check_limit(limit)
    if n is not None:
        rows = rows[:n]
    if fmt != "table":
        if columns:
            rows = [{c: r.get(c) for c in chosen} for r in rows]
        emit(rows, fmt, columns=chosen if columns else None)
        return
    print_table(rows, chosen, listing, title=title, total_rows=total, explicit=bool(columns))


def width() -> int:
    if sys.stdout.isatty():
        return Console().width
    try:
        return max(40, int(os.environ.get("COLUMNS", PIPE_WIDTH)))
    except ValueError:
        return PIPE_WIDTH


def cell(col: str, v: Any) -> str:
    if v is None:
        return ""
    if v is True:
        return "yes"
    if v is False:
        return "no"
    if col in AMOUNT_COLUMNS or col.endswith("_amount"):
        try:
            return f"{Decimal(str(v)):,.2f}"
        except InvalidOperation:
            return str(v)
    s = v.isoformat() if hasattr(v, "isoformat") else str(v)
    if len(s) >= 19 and s[10] == "T" and s[4] == "-":       # an instant: minutes are enough here
        return s[:10] + " " + s[11:16]
    return " ".join(s.split())


def print_table(rows: list[dict[str, Any]], cols: list[str], listing: Listing, *, title: str,
                total_rows: int, explicit: bool = False) -> None:
    console = Console(highlight=False, width=width(), soft_wrap=False)
    if not rows:
        console.print(f"[dim]{title}: nothing to show[/dim]")
        return
    texts = [{c: cell(c, r.get(c)) for c in cols} for r in rows]

    def natural(c: str) -> int:
        return max(len(c), *(len(t[c]) for t in texts))

    def need(cs: list[str]) -> int:
        total = 0
        for c in cs:
            w = natural(c)
            if c == listing.shrink:
                w = min(w, max(listing.shrink_min, len(c)))
            total += w + 2     # one space of padding either side
        return total

    avail = console.width
    cols = list(cols)
    dropped = []
    if not explicit:         # the columns asked for by name are all shown
        for c in listing.drop:
            if need(cols) <= avail:
                break
            if c in cols and len(cols) > 1:
                cols.remove(c)
                dropped.append(c)
    t = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
              show_footer=False, expand=False)
    fixed = sum(natural(c) + 2 for c in cols if c != listing.shrink)
    for c in cols:
        numeric = c in AMOUNT_COLUMNS or c in ("id", "claim_id", "finding_id", "claims")
        if c == listing.shrink:
            w = max(len(c), min(natural(c), avail - fixed - 2))
            t.add_column(c, no_wrap=True, overflow="ellipsis", width=w)
        else:
            t.add_column(c, justify="right" if numeric else "left", no_wrap=True, overflow="ellipsis",
                         min_width=natural(c), max_width=natural(c))
    for tx in texts:
        t.add_row(*[tx[c] for c in cols])
    console.print(t)
    err = Console(stderr=True, highlight=False, width=width())
    totals: dict[str, tuple[int, Decimal]] = {}
    for r in rows:
        amount = r.get("amount")
        if amount is None:
            continue
        cur = str(r.get("currency") or "")
        n, s = totals.get(cur, (0, Decimal(0)))
        totals[cur] = (n + 1, s + Decimal(str(amount)))
    line = f"{len(rows):,} row(s)" + (f" of {total_rows:,} (--limit)" if total_rows > len(rows) else "")
    if totals:
        line += "; total " + ", ".join(f"{cur} {s:,.2f}".strip() for cur, (_n, s) in sorted(totals.items()))
    console.print(line, markup=False)
    if dropped:
        err.print(f"[dim]not shown to fit {console.width} columns: {', '.join(dropped)} "
                  "(--columns to choose; --format csv|json for every field)[/dim]", soft_wrap=True)


FINDINGS = Listing(
    columns=("id", "kind", "carrier", "tracking_number", "invoice_number", "amount", "currency", "claimable",
             "deadline", "claim_id", "reason"),
    drop=("invoice_number", "claim_id", "claimable", "currency", "reason"),
    shrink="reason", shrink_min=24)
CLAIMS = Listing(
    columns=("id", "kind", "carrier", "tracking_number", "status", "channel", "amount", "credited", "currency",
             "deadline", "filed_at", "carrier_reference"),
    drop=("carrier_reference", "channel", "filed_at", "credited", "currency"),
    shrink="carrier_reference", shrink_min=12)
