"""Storing invoices: each invoice of a file whole or not at all, told from a re-sent copy by the digest
of its lines (``invoice.lines_hash``); its credit lines become credits to match with claims."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select, text

from recoup.ingest.base import INVOICE_COLUMNS, ReadResult, RowError
from recoup.ingest.summary import FileSummary
from recoup.money import LINE_LIMIT_CENTS, from_cents, limit_text
from recoup.sla.contracts import ContractSet
from recoup.store.bulk import FrameInserter
from recoup.store.db import inserted_id
from recoup.store.models import Invoice, table_of

_LINE_COLUMNS = ["invoice_id", "line_no", "carrier", "invoice_number", "invoice_date", "tracking_number",
                 "charge_type", "amount_cents", "currency", "billed_weight", "weight_unit", "zone", "service",
                 "ship_date", "reference", "description", "account_number", "adjustment"]
_HASH_COLUMNS = ["tracking_number", "charge_type", "amount_cents", "billed_weight", "zone", "reference"]


def _cell_json(v: Any) -> str:
    return json.dumps(None if pd.isna(v) else str(v))


def lines_hash(g: pd.DataFrame) -> str:
    """The invoice's lines as a digest, whatever their order: each line's six cells as a JSON list of
    texts (None for no value), sorted, joined with newlines. Stored in ``invoice.lines_hash``, so it
    must never change: a re-sent invoice is told from a changed one by it."""
    encoded = [_encoded_cells(g[c]) for c in _HASH_COLUMNS]
    rows = sorted(f"[{', '.join(cells)}]" for cells in zip(*encoded, strict=True))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _encoded_cells(col: pd.Series) -> list[str]:
    """``json.dumps(None if isna(v) else str(v))`` of each cell, computed once per distinct value where
    the column holds only texts or only integers (a mixed column, where 1 and 1.0 would be one
    distinct value, is encoded cell by cell)."""
    kind = pd.api.types.infer_dtype(col, skipna=True)
    if kind not in ("string", "integer", "empty"):
        return [_cell_json(v) for v in col.tolist()]
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    texts = [str(u) for u in uniques.tolist()]
    joined = "".join(texts)
    if joined.isascii() and joined.isprintable() and '"' not in joined and "\\" not in joined:
        # json.dumps escapes only '"', '\\', control characters and non-ASCII: none here
        encoded = [f'"{t}"' for t in texts]
    else:
        encoded = [_cell_json(u) for u in uniques.tolist()]
    table = np.array([*encoded, "null"], dtype=object)
    return table[codes].tolist()     # code -1 (no value) takes the last slot


def line_inserter(conn: Connection) -> FrameInserter:
    """The inserter of a file's invoice lines: own_parents, as a line's one foreign key, invoice_id, is
    the invoice row this transaction inserted just before (:func:`store_invoices`)."""
    return FrameInserter(conn, "invoice_line", _LINE_COLUMNS, own_parents=True)


def store_invoices(conn: Connection, result: ReadResult, fid: int, s: FileSummary, fmt: str, now: dt.datetime,
                   contracts: ContractSet | None = None, lines: FrameInserter | None = None) -> None:
    """Each invoice of the frame whole or not at all; its lines are stored through ``lines`` (a
    :func:`line_inserter`), all of the frame's in one piece after its invoice rows, then its credits.
    With ``lines`` given, on PostgreSQL the server stores them while the caller reads the next frame:
    ``s.stored`` is counted and the credits written when the caller calls ``lines.wait()`` (the next
    call does it first; the caller must before it uses the connection). Without, before this returns."""
    if lines is None:
        with line_inserter(conn) as own:
            store_invoices(conn, result, fid, s, fmt, now, contracts, own)
        return
    lines.wait()                     # the previous frame's lines are in, its credits written
    df = result.frame
    if not df.empty:
        # every reader's lines, whatever their format: an amount beyond the bound refuses its invoice
        over = df["amount_cents"].abs() > LINE_LIMIT_CENTS
        for ln, inv, cents in zip(df.loc[over, "line"], df.loc[over, "invoice_number"], df.loc[over, "amount_cents"],
                                  strict=True):
            s.errors.append(RowError(int(ln), "amount", f"amount out of range: {from_cents(int(cents))}; at most "
                                     f"{limit_text(LINE_LIMIT_CENTS)} on one line", str(inv)))
        df = df.loc[~over]
    bad_invoices = {e.invoice_number for e in s.errors if e.invoice_number}
    if any(e.invoice_number is None and e.line is not None for e in s.errors) and not df.empty:
        # a bad line whose invoice is unknown: refuse every invoice of the file, to be safe
        bad_invoices |= set(df["invoice_number"].unique())
    if df.empty:
        return
    df = df.reindex(columns=INVOICE_COLUMNS).copy()
    df["line_no"] = np.arange(len(df))
    it = table_of(Invoice)
    frames: list[pd.DataFrame] = []
    with_credits: list[int] = []
    for (carrier, number), g in df.groupby(["carrier", "invoice_number"], sort=False):
        if number in bad_invoices:
            s.errors.append(RowError(None if g.empty else int(g["line"].iloc[0]), "invoice_number",
                                     f"invoice {number} refused whole: it has bad lines", str(number)))
            continue
        h = lines_hash(g)
        prev = conn.execute(select(it.c.id, it.c.lines_hash).where(it.c.carrier == carrier)
                            .where(it.c.invoice_number == number)).first()
        if prev is not None:
            if prev.lines_hash == h:
                s.duplicates += len(g)
            else:
                s.errors.append(RowError(int(g["line"].iloc[0]), "invoice_number",
                                         f"invoice {carrier} {number} is already loaded with different lines; "
                                         "refused (a corrected invoice needs a new invoice number)", str(number)))
            continue
        dates = g["invoice_date"].dropna()
        inv_date = dates.iloc[0].date()
        cur = g["currency"].dropna()
        if not len(cur) and contracts is not None:
            k = contracts.match(str(carrier), None)
            cur = pd.Series([k.currency] if k else [], dtype=object)
        acct = g["account_number"].dropna()
        res = conn.execute(it.insert().values(
            carrier=carrier, invoice_number=number, invoice_date=inv_date,
            account_number=acct.iloc[0] if len(acct) else None, currency=cur.iloc[0] if len(cur) else None,
            lines_hash=h, line_count=len(g), total_cents=int(g["amount_cents"].sum()), format=fmt,
            file_id=fid, loaded_at=now))
        inv_id = inserted_id(res)
        g = g.assign(invoice_id=inv_id, line_no=np.arange(len(g)), invoice_date=g["invoice_date"].fillna(dates.iloc[0]))
        g["currency"] = g["currency"].where(g["currency"].notna(), cur.iloc[0] if len(cur) else None)
        frames.append(g[_LINE_COLUMNS])
        s.invoices.append((str(carrier), str(number)))
        # credits: refunds and claim payments to a parcel; never incentives (folded into transportation by
        # the readers) nor account-level lines (no parcel to pay)
        if ((g["amount_cents"] < 0) & (g["charge_type"] == "credit") & g["tracking_number"].notna()).any():
            with_credits.append(inv_id)
    if not frames:
        return

    def done(n: int) -> None:
        s.stored += n
        for inv_id in with_credits:     # invoice by invoice, as the lines: the credits' ids in that order
            conn.execute(text(
                "INSERT INTO credit (invoice_line_id, carrier, tracking_number, invoice_number, invoice_date, "
                "reference, description, amount_cents, currency, matched_cents) "
                "SELECT id, carrier, tracking_number, invoice_number, invoice_date, reference, description, "
                "-amount_cents, currency, 0 FROM invoice_line WHERE invoice_id = :i AND amount_cents < 0 "
                "AND charge_type = 'credit' AND tracking_number IS NOT NULL"),
                {"i": inv_id})

    lines.submit(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], done)
