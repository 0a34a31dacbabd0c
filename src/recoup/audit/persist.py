"""Writing an audit's results: findings inserted, updated in place or withdrawn (each with a
history entry), and their claims opened, updated or cancelled, in the caller's transaction, in bulk
(:mod:`recoup.store.bulk`)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from recoup.audit.frames import CHUNK, Key, by_keys
from recoup.audit.rules import FINDING_COLUMNS
from recoup.claims.lifecycle import UNFILED, idempotency_key, move
from recoup.store.bulk import each_distinct, insert_columns, raw_rows, update_many
from recoup.store.models import Claim, ClaimEvent, Finding, FindingHistory, table_of

FT = table_of(Finding)
CT = table_of(Claim)
HT = table_of(FindingHistory)
ET = table_of(ClaimEvent)

FIELDS = ("kind", "carrier", "tracking_number", "invoice_number", "invoice_line_id", "amount_cents", "currency",
          "deadline", "claimable", "reason", "evidence")
TRACKED = ("kind", "carrier", "tracking_number", "invoice_number", "invoice_line_id", "amount_cents", "currency",
           "deadline", "claimable")     # a change of these is an "updated" history entry
CACHE_KIB = 256 * 1024                  # SQLite's page cache while persist writes (see _big_cache)


@dataclass
class AuditSummary:
    as_of: dt.date
    shipments: int = 0
    findings: int = 0
    new: int = 0
    updated: int = 0
    withdrawn: int = 0
    claims_opened: int = 0
    claims_cancelled: int = 0
    claims_updated: int = 0
    mode: str = "full"               # full | incremental
    why: str = ""                    # why a full run, or what the incremental run re-judged
    by_kind: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)


def _date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _existing(conn: Connection, scope: set[Key] | None, carriers: set[str]) -> dict[str, list[Any]]:
    """The stored findings of the judged scope as columns (``deadline`` a date, ``claimable`` a bool), in
    id order."""
    cols = ["id", "key", "status", *FIELDS]
    sql = f"SELECT {', '.join(cols)} FROM finding WHERE"
    if scope is None:
        marks = ", ".join("?" for _ in carriers)
        rows = raw_rows(conn, f"{sql} carrier IN ({marks})", sorted(carriers)) if carriers else []
    else:
        rows = by_keys(conn, sql, ((c, t) for c, t in scope if c in carriers), by_number=True)
        rows.sort(key=lambda r: int(r[0]))    # id order, whatever order the chunks came back in
    out: dict[str, list[Any]] = {c: list(v) for c, v in zip(cols, zip(*rows, strict=True), strict=True)} if rows \
        else {c: [] for c in cols}
    out["deadline"] = _dates(out["deadline"])
    out["claimable"] = [bool(v) for v in out["claimable"]]
    return out


def _dates(vals: list[Any]) -> list[dt.date | None]:
    """:func:`_date` of each value (each distinct value once)."""
    return each_distinct(_date, vals)


def _claims_of(conn: Connection, finding_ids: list[int]) -> dict[str, list[Any]]:
    """The claims of these findings as columns: id, finding_id, status, claimed_cents, deadline (a date)."""
    cols = ["id", "finding_id", "status", "claimed_cents", "deadline"]
    sql = f"SELECT {', '.join(cols)} FROM claim"
    ids = sorted(set(finding_ids))
    rows: list[tuple[Any, ...]] = []
    if len(ids) > 20 * CHUNK:
        rows = raw_rows(conn, sql)
    else:
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            rows += raw_rows(conn, f"{sql} WHERE finding_id IN ({', '.join('?' for _ in part)})", part)
    want = set(ids)
    rows = [r for r in rows if int(r[1]) in want]
    out: dict[str, list[Any]] = {c: list(v) for c, v in zip(cols, zip(*rows, strict=True), strict=True)} if rows \
        else {c: [] for c in cols}
    out["deadline"] = _dates(out["deadline"])
    return out


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _found_columns(found: pd.DataFrame) -> dict[str, list[Any]]:
    """The findings' columns as lists of plain Python values (ints, bools, dates, str or None)."""
    cols: dict[str, list[Any]] = {}
    for c in FINDING_COLUMNS:
        s = found[c]
        if not len(s):
            cols[c] = []
        elif c == "amount_cents":
            cols[c] = s.to_numpy(dtype=np.int64).tolist()
        elif c == "claimable":
            cols[c] = s.to_numpy(dtype=bool).tolist()
        elif c == "invoice_line_id":
            cols[c] = [None if v is None or v != v else int(v) for v in s.tolist()]
        else:
            vals = s.to_numpy(dtype=object)
            cols[c] = ([None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
                        for v in vals.tolist()] if pd.isna(vals).any() else vals.tolist())
    return cols


def _obj(vals: list[Any]) -> np.ndarray[Any, Any]:
    """A list as a numpy array of its very objects (``!=`` on two of them is Python's, element by element)."""
    a = np.empty(len(vals), dtype=object)
    a[:] = vals
    return a


def _take(vals: list[Any], at: np.ndarray[Any, Any]) -> list[Any]:
    return vals if len(at) == len(vals) else _obj(vals)[at].tolist()


def _details(new: dict[str, list[Any]]) -> list[str]:
    """The history detail of each new finding: ``json.dumps({k: str(v)})`` of three values that need no
    escaping, written out (``str`` of each distinct deadline once)."""
    d = {v: f'", "deadline": "{v}", "claimable": "' for v in set(new["deadline"])}
    return [f'{{"amount_cents": "{a}{d[dl]}{c}"}}'
            for a, dl, c in zip(new["amount_cents"], new["deadline"], new["claimable"], strict=True)]


def _block(conn: Connection, table: str, before: int, n: int) -> list[int] | None:
    """The ids of the ``n`` rows one insert just gave ``table`` (ids above ``before``), in the order
    inserted, when the rows above ``before`` are exactly ``n`` with consecutive ids: an insert numbers
    its rows in order (SQLite's next rowid is the largest plus one, a PostgreSQL sequence only grows),
    so the block is theirs. None otherwise (the caller reads the rows)."""
    ((lo, hi, count),) = raw_rows(conn, f"SELECT min(id), max(id), count(*) FROM {table} WHERE id > ?", [before])
    if count != n or lo is None or hi - lo + 1 != n:
        return None
    return list(range(int(lo), int(hi) + 1))


@dataclass
class _Rows:
    """Rows to insert into one table, column by column (:func:`recoup.store.bulk.insert_columns`)."""

    columns: dict[str, list[Any]]

    def add(self, **more: list[Any]) -> None:
        for c, v in more.items():
            self.columns[c] += v


@contextmanager
def _big_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a page cache of CACHE_KIB while the findings and claims are written (their unique
    keys are random, so each insert touches index pages all over), the connection's own size put back
    after (it is pooled)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    was = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(was or 0)}")


def persist(conn: Connection, found: pd.DataFrame, scope: set[Key] | None, carriers: set[str],
            summary: AuditSummary, threshold: int | None, actor: str, now: dt.datetime) -> Counter[str]:
    """Write the findings of ``found`` (FINDING_COLUMNS) over the stored ones of the judged scope: new
    ones inserted, changed or withdrawn ones updated, each with a history entry; then their claims.
    The rows, their order and ids are those a loop over the findings one by one writes (the tests keep
    that loop, ``tests/audit/persist_reference.py``); the bookkeeping is done on whole columns.

    Returns how the number of open findings of the audited carriers changed, by kind. After the write
    every finding of ``found`` is open and every other stored finding of the scope is not (an open one
    is withdrawn), so the change is the findings found less the scope's open ones before, kind by kind
    (negative counts kept)."""
    new = _found_columns(found)
    change = Counter(k for k, c in zip(new["kind"], new["carrier"], strict=True) if c in carriers)
    with _big_cache(conn):
        fids, gone, was_open = _findings(conn, new, scope, carriers, summary, now)
        _claims(conn, new, fids, gone, summary, threshold, actor, now)
    change.subtract(was_open)
    return change


def _findings(conn: Connection, new: dict[str, list[Any]], scope: set[Key] | None, carriers: set[str],
              summary: AuditSummary, now: dt.datetime) -> tuple[np.ndarray[Any, Any], list[int], Counter[str]]:
    """Insert, update and withdraw the findings, with their history. The finding id of each row of
    ``new``, the ids of the findings withdrawn (in the order read) and the scope's open findings
    before, counted by kind."""
    old = _existing(conn, scope, carriers)
    was_open = Counter(k for k, st in zip(old["kind"], old["status"], strict=True) if st == "open")
    keys = new["key"]
    pos = pd.Index(old["key"], dtype=object).get_indexer(pd.Index(keys, dtype=object))
    fid = np.full(len(keys), -1, dtype=np.int64)
    at = np.flatnonzero(pos >= 0)       # stored already: at[i] in new is p[i] in old
    p = pos[at]
    old_ids = np.asarray(old["id"], dtype=np.int64)
    fid[at] = old_ids[p]
    maybe = _obj(old["status"])[p] != "open"
    for k in (*TRACKED, "reason", "evidence"):
        maybe |= _obj(old[k])[p] != _obj(new[k])[at]
    updates: list[dict[str, Any]] = []
    history = _Rows({"finding_id": [], "change": [], "detail": []})
    for j, i in zip(at[maybe].tolist(), p[maybe].tolist(), strict=True):
        # what may have changed, judged exactly as one finding at a time
        f = {k: new[k][j] for k in FIELDS}
        status = old["status"][i]
        changed = {k: f[k] for k in TRACKED if _clean(old[k][i]) != f[k]}
        if changed or status != "open" or old["reason"][i] != f["reason"] or old["evidence"][i] != f["evidence"]:
            updates.append({"b_id": int(old_ids[i]), "status": "open", "updated_at": now, **f})
            if changed or status != "open":
                history.add(finding_id=[int(old_ids[i])], change=["reopened" if status != "open" else "updated"],
                            detail=[json.dumps({k: str(v) for k, v in changed.items()})])
                summary.updated += 1
    ins = np.flatnonzero(pos < 0)
    if len(ins):
        before = conn.execute(select(func.max(FT.c.id))).scalar() or 0
        cols = {c: _take(new[c], ins) for c in ("key", *FIELDS)}
        insert_columns(conn, FT, {"key": cols["key"], "status": "open", "first_seen": now, "updated_at": now,
                                  **{k: cols[k] for k in FIELDS}})
        opened = _block(conn, "finding", before, len(ins))
        if opened is None:
            id_of = dict(raw_rows(conn, "SELECT key, id FROM finding WHERE id > ?", [before]))
            opened = list(map(id_of.__getitem__, cols["key"]))
        fid[ins] = opened
        history.add(finding_id=opened, change=["opened"] * len(ins), detail=_details(cols))
        summary.new += len(ins)
    update_many(conn, FT, updates)
    # withdrawn: open findings of the judged scope (audited carriers) that no longer hold
    held = pd.Index(old["key"], dtype=object).isin(pd.Index(keys, dtype=object))
    gone = old_ids[np.flatnonzero(~held & (_obj(old["status"]) == "open"))].tolist()
    if gone:
        update_many(conn, FT, [{"status": "withdrawn", "updated_at": now, "b_id": i} for i in gone])
        history.add(finding_id=gone, change=["withdrawn"] * len(gone),
                    detail=["no longer holds on the current data"] * len(gone))
        summary.withdrawn += len(gone)
    insert_columns(conn, HT, {"finding_id": history.columns["finding_id"], "at": now, **{
        c: history.columns[c] for c in ("change", "detail")}})
    return fid, gone, was_open


def _claims(conn: Connection, new: dict[str, list[Any]], fid: np.ndarray[Any, Any], gone: list[int],
            summary: AuditSummary, threshold: int | None, actor: str, now: dt.datetime) -> None:
    """Open a claim for each claimable finding without one, update the unfiled claims whose finding's
    amount or deadline moved, cancel the unfiled claims of withdrawn findings; each with its event."""
    claims = _claims_of(conn, [*fid.tolist(), *gone])
    by_finding = pd.Index(np.asarray(claims["finding_id"], dtype=np.int64))
    cpos = by_finding.get_indexer(pd.Index(fid))
    claim_ids = np.asarray(claims["id"], dtype=np.int64)
    amount = np.asarray(new["amount_cents"], dtype=np.int64)
    # unfiled claims whose finding's amount or deadline moved (in the findings' order)
    at = np.flatnonzero(cpos >= 0)
    c = cpos[at]
    unfiled = np.asarray([claims["status"][k] in UNFILED for k in c.tolist()], dtype=bool)
    moved = (np.asarray(claims["claimed_cents"], dtype=np.int64)[c] != amount[at]) | (
        _obj(claims["deadline"])[c] != _obj(new["deadline"])[at])
    claim_updates: list[dict[str, Any]] = []
    events = _Rows({"claim_id": [], "from_status": [], "to_status": [], "detail": []})
    for j, k in zip(at[unfiled & moved].tolist(), c[unfiled & moved].tolist(), strict=True):
        cid, status, a, d = int(claim_ids[k]), claims["status"][k], new["amount_cents"][j], new["deadline"][j]
        claim_updates.append({"b_id": cid, "claimed_cents": a, "deadline": d, "updated_at": now})
        events.add(claim_id=[cid], from_status=[status], to_status=[status],
                   detail=[f"finding updated: amount {a} cents, deadline {d}"])
    opened = np.flatnonzero(np.asarray(new["claimable"], dtype=bool) & (cpos < 0))
    if len(opened):
        needs = [False] * len(opened) if threshold is None else (amount[opened] > threshold).tolist()
        fids = fid[opened].tolist()
        before = conn.execute(select(func.max(CT.c.id))).scalar() or 0
        insert_columns(conn, CT, {
            "finding_id": fids, **{col: _take(new[col], opened) for col in ("kind", "carrier", "tracking_number")},
            "status": "ready", "claimed_cents": amount[opened].tolist(), "credited_cents": 0,
            "currency": _take(new["currency"], opened), "deadline": _take(new["deadline"], opened),
            "idempotency_key": list(map(idempotency_key, _take(new["key"], opened))), "needs_approval": needs,
            "created_at": now, "updated_at": now})
        detail = dict(zip(fids, ("opened for a claimable finding"
                                 + ("; waits for approval (above the approval threshold)" if n else "")
                                 for n in needs), strict=True))
        block = _block(conn, "claim", before, len(opened))
        rows = list(zip(block, fids, strict=True)) if block is not None else \
            raw_rows(conn, "SELECT id, finding_id FROM claim WHERE id > ?", [before])
        got = [(cid, detail[f]) for cid, f in rows if f in detail]    # in the order read
        events.add(claim_id=[cid for cid, _ in got], from_status=[None] * len(got), to_status=["ready"] * len(got),
                   detail=[d for _, d in got])
        summary.claims_opened += len(opened)
    update_many(conn, CT, claim_updates)
    summary.claims_updated += len(claim_updates)
    ev = events.columns
    insert_columns(conn, ET, {"claim_id": ev["claim_id"], "from_status": ev["from_status"],
                              "to_status": ev["to_status"], "actor": actor, "at": now, "detail": ev["detail"]})
    for k in by_finding.get_indexer(pd.Index(np.asarray(gone, dtype=np.int64))).tolist():
        if k >= 0 and claims["status"][k] in UNFILED:
            move(conn, int(claim_ids[k]), claims["status"][k], "cancelled", actor,
                 "finding withdrawn: it no longer holds", now=now)
            summary.claims_cancelled += 1
