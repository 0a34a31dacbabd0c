"""Charge lines from charge tables: columns by header names, and per-parcel rows with a column per
charge (a layout's ``charge_columns``, e.g. Royal Mail items) (pure)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from recoup.invoices.pdf.layouts import Layout, data, norm
from recoup.invoices.pdf.lines import Build, type_of
from recoup.invoices.pdf.totals import TWO_DECIMALS
from recoup.invoices.pdf.values import amount_cents, parse_amount, parse_date, tracking_number, weight_text
from recoup.money import MoneyError, fmt


@dataclass
class ColumnMap:
    """A charge table's columns: field -> index, and for a per-parcel table its charge columns."""

    fields: dict[str, int]
    weight_unit: str | None
    charge_cols: list[tuple[int, str, str]]   # (index, charge_type, header text)
    row_total: int | None


def map_header(header: list[str], rows: list[list[str]], layout: Layout | None) -> ColumnMap:
    d = data()
    norms = [norm(h) for h in header]
    field_names = dict(d.columns)
    if layout:
        field_names = {f: layout.columns.get(f, ()) + names for f, names in d.columns.items()}
    charge_cols: list[tuple[int, str, str]] = []
    row_total = None
    taken: set[int] = set()
    if layout and layout.charge_columns:
        for i, n in enumerate(norms):
            if n in layout.charge_columns:
                charge_cols.append((i, layout.charge_columns[n], header[i].strip()))
                taken.add(i)
            elif n in layout.row_total and row_total is None:
                row_total = i
                taken.add(i)
    fields: dict[str, int] = {}
    ambiguous = set(field_names["description"]) & set(field_names["amount"])
    for f, names in field_names.items():
        best: tuple[int, int] | None = None   # (preference rank, column)
        for i, n in enumerate(norms):
            if i in taken or n not in names or n in ambiguous:
                continue
            rank = names.index(n)
            if best is None or rank < best[0]:
                best = (rank, i)
        if best is not None:
            fields[f] = best[1]
            taken.add(best[1])
    for i, n in enumerate(norms):  # "Charge": an amount column if its cells are amounts, else descriptions
        if i in taken or n not in ambiguous:
            continue
        cells = [r[i] for r in rows if i < len(r) and r[i].strip()]
        amounts = sum(1 for c in cells if parse_amount(c) is not None)
        f = "amount" if cells and amounts >= 0.6 * len(cells) else "description"
        if f not in fields:
            fields[f] = i
            taken.add(i)
    unit = None
    if "billed_weight" in fields:
        h = header[fields["billed_weight"]].lower()
        unit = "kg" if re.search(r"\bkgs?\b", h) else "lb" if re.search(r"\blbs?\b", h) else None
    return ColumnMap(fields, unit, charge_cols, row_total)


def _skip_row(cells: Iterable[str]) -> bool:
    rx = data().skip_rows
    return any(c[:1].isalpha() and rx.match(norm(c)) for c in cells)


def table_charges(pages: list[dict[str, Any]], b: Build) -> None:
    """The charge lines of every table, in page order."""
    from recoup.ingest.base import RowError

    m = b.meta
    line_no = 0
    ctx: dict[str, Any] | None = None          # the parcel the following blank-tracking rows belong to
    maps: dict[tuple[str, ...], ColumnMap] = {}
    last_row_line = -1

    def err(page: int, line: int, column: str | None, reason: str) -> None:
        b.errors.append(RowError(line, column, f"page {page}: {reason}", m.invoice_number))

    for pi, page in enumerate(pages):
        for table in page["tables"]:
            header = [h or "" for h in table["header"]]
            key = tuple(header)
            if key not in maps:
                maps[key] = map_header(header, table["rows"], b.layout)
            cm = maps[key]
            f = cm.fields
            hstrip = [h.strip() for h in header]

            def cell(row: list[str], name: str, f: dict[str, int] = f) -> str:
                i = f.get(name)
                return (row[i] or "").strip() if i is not None and i < len(row) else ""

            for row in table["rows"]:
                row = [(c or "").strip() for c in row]
                if not any(row) or row == hstrip:
                    continue
                line_no += 1
                pno = pi + 1
                if _skip_row(row):
                    b.skipped += 1
                    continue
                raw_tn = cell(row, "tracking_number")
                tn = tracking_number(raw_tn) if raw_tn else None
                service, date_s = cell(row, "service"), cell(row, "ship_date")
                service = "" if service in ("-", "\u2013", "\u2014") else service   # a dash: no service
                ship = parse_date(date_s, m.date_order) if date_s else None
                if date_s and ship is None and tn:
                    err(pno, line_no, "ship_date", f"not a date: {date_s!r}")
                    b.read += 1
                    continue
                try:
                    weight, unit = weight_text(cell(row, "billed_weight"), comma_decimal=b.comma_decimal)
                except ValueError as e:
                    weight, unit = None, None
                    if tn:
                        err(pno, line_no, "billed_weight", str(e))
                        b.read += 1
                        continue
                base = {
                    "invoice_number": m.invoice_number, "invoice_date": m.invoice_date, "carrier": m.carrier,
                    "account_number": m.account_number, "currency": m.currency,
                    "reference": cell(row, "reference") or None, "line": line_no, "page": pno,
                }
                if cm.charge_cols:
                    if not tn:
                        if raw_tn and any(_money_cell(row[i]) for i, _, _ in cm.charge_cols if i < len(row)):
                            err(pno, line_no, "tracking_number", f"not a tracking number: {raw_tn!r}")
                            b.read += 1
                        continue
                    _wide_row(b, cm, row, tn, service, ship, weight, unit or cm.weight_unit,
                              cell(row, "zone"), base, err, pno, line_no)
                    continue
                amt_s = cell(row, "amount")
                desc = cell(row, "description")
                if raw_tn and not tn:
                    if _money_cell(amt_s):
                        err(pno, line_no, "tracking_number", f"not a tracking number: {raw_tn!r}")
                        b.read += 1
                    continue                       # text under the table (addresses, notes)
                if tn:
                    ctx = {"tn": tn, "service": service or None, "ship": ship}
                if not amt_s:
                    if not tn and desc and not any(c for i, c in enumerate(row) if i != f.get("description")) \
                            and b.records and last_row_line == line_no - 1:
                        b.records[-1]["description"] = f"{b.records[-1]['description'] or ''} {desc}".strip()
                        last_row_line = line_no
                    continue                       # a parcel row whose charges follow, or a wrapped text
                try:
                    cents = amount_cents(amt_s)
                except MoneyError:
                    cents = None
                if cents is None:
                    if tn or _money_cell(amt_s):
                        err(pno, line_no, "amount", f"not an amount: {amt_s!r}")
                        b.read += 1
                    continue
                if not tn and not _money_cell(amt_s):
                    continue                       # a bare number under the table: not a charge
                if ctx is None:
                    err(pno, line_no, "tracking_number", "a charge with no tracking number (and none above it)")
                    b.read += 1
                    continue
                if not desc:
                    err(pno, line_no, "description", "a charge with no description")
                    b.read += 1
                    continue
                b.read += 1
                ctype = type_of(b, desc, cents)
                b.records.append({**base, "tracking_number": ctx["tn"], "charge_type": ctype, "amount_cents": cents,
                                  "billed_weight": weight, "weight_unit": (unit or cm.weight_unit) if weight else None,
                                  "zone": cell(row, "zone") or None, "service": service or ctx["service"],
                                  "ship_date": ship or ctx["ship"], "description": desc})
                last_row_line = line_no


def _money_cell(s: str) -> bool:
    """A cell that prints money (two decimals), as opposed to a bare number or text."""
    return bool(s) and bool(TWO_DECIMALS.search(s)) and parse_amount(s) is not None


def _wide_row(b: Build, cm: ColumnMap, row: list[str], tn: str, service: str, ship: dt.date | None,
              weight: str | None, unit: str | None, zone: str, base: dict[str, Any], err: Any,
              pno: int, line_no: int) -> None:
    """One row per parcel with a column per charge: a line per non-zero charge column."""
    lines, total = [], 0
    for i, ctype, head in cm.charge_cols:
        s = row[i] if i < len(row) else ""
        if not s:
            continue
        try:
            cents = amount_cents(s)
        except MoneyError:
            cents = None
        if cents is None:
            err(pno, line_no, head, f"not an amount: {s!r}")
            b.read += 1
            return
        total += cents
        if cents:
            lines.append((ctype if cents > 0 else "credit", cents, head))
    if cm.row_total is not None and cm.row_total < len(row) and row[cm.row_total]:
        try:
            stated = amount_cents(row[cm.row_total])
        except MoneyError:
            stated = None
        if stated is None or stated != total:
            err(pno, line_no, "amount", f"the charge columns add up to {fmt(total)}, the row's total is "
                                        f"{row[cm.row_total]!r}")
            b.read += 1
            return
    b.read += len(lines)
    first_transport = True
    for ctype, cents, head in lines:
        on_transport = ctype == "transportation" and first_transport
        first_transport = first_transport and not on_transport
        b.records.append({**base, "tracking_number": tn, "charge_type": ctype, "amount_cents": cents,
                          "billed_weight": weight if on_transport else None,
                          "weight_unit": unit if on_transport and weight else None,
                          "zone": (zone or None) if on_transport else None, "service": service or None,
                          "ship_date": ship, "description": head})
