"""Run the audit over the store: load frames, apply the rules, persist findings and their claims.

Findings are identified by their key (kind, carrier, tracking number, invoice line). Auditing again
updates a finding in place; one that no longer holds is withdrawn with a history entry and its
unfiled claim cancelled. Claimable findings open claims in ``ready``. Writes are bulk (executemany),
in one transaction.

**Incremental audit.** By default ``audit`` re-judges only the shipments whose findings can have
changed since the last run, and gives the same result as a full run:

- data: shipments whose manifest row changed (``shipment.updated_at`` after the last run's mark),
  or that got new scans or invoice lines (ids above the last run's high-water marks);
- time, when the audit date moves forward from A to B: shipments with an open finding whose
  deadline falls in [A, B) (it stops being claimable, and what it suppressed comes back), and
  shipments that turn lost or void on a day in (A, B] (the rules say when: ``AuditResult.recheck``,
  kept in ``audit_state``).

A full run happens with ``full=True`` (``recoup audit --full``), on the first run, when the
contracts or the audit rules changed (a fingerprint of both is kept), or when the audit date moves
back. Withdrawal only considers findings of the re-judged shipments. State lives in
``audit_state`` under ``audit:*`` keys.

Full runs load only the scans the rules need: every scan of a parcel without a final event
(delivered, returned, available for pickup), and for the others their final, lost and damaged
events and those with an exception reason (``relevant_scans`` in audit/rules/core.py says why that
is enough); the invoice lines with a positive amount, the account-level ones (no tracking number)
included: their findings (``account_fee``) carry the tracking number "" and are re-judged when new
account-level lines of their carrier arrive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Engine

from recoup.audit import rules as rules_module
from recoup.audit import weights as weights_module
from recoup.audit.rules import (
    FINAL_STATUSES,
    FINDING_COLUMNS,
    LINE_FIELDS,
    SCAN_FIELDS,
    SHIPMENT_FIELDS,
    AuditFrames,
    AuditResult,
    prepare_frames,
    run_audit,
)
from recoup.claims.lifecycle import UNFILED, idempotency_key, move
from recoup.clock import Clock
from recoup.money import to_cents
from recoup.sla.contracts import ContractSet
from recoup.store.models import (
    AuditState,
    Claim,
    ClaimEvent,
    Finding,
    FindingHistory,
    IngestedFile,
    InvoiceLine,
    ScanEvent,
    Shipment,
)

FT = Finding.__table__  # type: ignore[attr-defined]
CT = Claim.__table__  # type: ignore[attr-defined]
HT = FindingHistory.__table__  # type: ignore[attr-defined]
ET = ClaimEvent.__table__  # type: ignore[attr-defined]
ST = AuditState.__table__  # type: ignore[attr-defined]
SHT = Shipment.__table__  # type: ignore[attr-defined]
SCT = ScanEvent.__table__  # type: ignore[attr-defined]
LT = InvoiceLine.__table__  # type: ignore[attr-defined]
IFT = IngestedFile.__table__  # type: ignore[attr-defined]

CHUNK = 900                     # keys per IN list (SQLite's variable limit is 32766; keep it modest)
FULL_SCAN_SHARE = 0.3           # when more parcels than this lack a final event, read every scan at once
FIELDS = ("kind", "carrier", "tracking_number", "invoice_number", "invoice_line_id", "amount_cents", "currency",
          "deadline", "claimable", "reason", "evidence")
TRACKED = ("kind", "carrier", "tracking_number", "invoice_number", "invoice_line_id", "amount_cents", "currency",
           "deadline", "claimable")     # a change of these is an "updated" history entry
K_SCAN, K_LINE, K_SHIP = "audit:scan_max_id", "audit:line_max_id", "audit:shipment_mark"
K_FILE = "audit:file_max_id"    # manifest rows written by a later file changed too (clock-independent)
K_AS_OF, K_PRINT, K_WATCH = "audit:as_of", "audit:fingerprint", "audit:watch"

Key = tuple[str, str]


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
    reconciled: int = 0
    mode: str = "full"               # full | incremental
    why: str = ""                    # why a full run, or what the incremental run re-judged
    by_kind: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)


# ----------------------------------------------------------------------------- reading the store

def _raw_rows(conn: Connection, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """Rows as plain tuples through the driver's cursor (no per-row SQLAlchemy objects). ``?``
    placeholders are translated for drivers that use ``%s``."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%", "%%").replace("?", "%s")
    cur = raw.cursor()
    try:
        cur.execute(sql, tuple(params))
        return list(cur.fetchall())
    finally:
        cur.close()


def _frame(rows: list[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    """Plain object columns (no string dtype conversion: the rules work on object arrays)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    a = np.array(rows, dtype=object)
    if a.ndim != 2:   # pragma: no cover - rows of sequences numpy could not stack
        a = np.array([tuple(r) for r in rows] + [(None,) * len(columns)], dtype=object)[:-1]
    return pd.DataFrame({c: pd.Series(a[:, j], dtype=object, copy=False) for j, c in enumerate(columns)})


# How the audit's columns are kept: i int64, I nullable Int64, c category, s object text, d date, t instant,
# b optional bool. Categories make the frames small and the rules' sorting, grouping and copying cheap.
KINDS = {
    "id": "i", "line_no": "i", "amount_cents": "i", "utc_offset_min": "I", "declared_value_cents": "I",
    "item_value_cents": "I", "tracking_number": "s", "promised_delivery": "s", "ship_date": "d",
    "invoice_date": "d", "occurred_at": "t", "dest_residential": "b", "address_validated": "b",
}
BATCH = 200_000


def _column(values: np.ndarray, kind: str) -> Any:
    if kind == "i":
        return values.astype(np.int64)
    if kind == "I":
        missing = pd.isna(values)
        return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)
    if kind == "s":
        return values
    if kind == "b":
        return np.array([None if v is None else bool(v) for v in values], dtype=object)
    if kind == "t":
        return pd.to_datetime(values, utc=True, format="ISO8601")
    codes, uniq = pd.factorize(values)       # c, and d on its distinct values
    if kind == "d":
        days = pd.to_datetime(pd.Series(uniq, dtype=object), format="ISO8601").to_numpy(dtype="datetime64[ns]")
        return np.where(codes >= 0, days[np.maximum(codes, 0)] if len(days) else np.datetime64("NaT"),
                        np.datetime64("NaT")).astype("datetime64[ns]")
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniq, dtype=object))


def _fetch(conn: Connection, sql: str, params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
    """A query's rows as compact columns (KINDS; other columns categories), a batch at a time."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%", "%%").replace("?", "%s")
    cur = raw.cursor()
    parts: list[pd.DataFrame] = []
    try:
        cur.execute(sql, tuple(params))
        while True:
            rows = cur.fetchmany(BATCH)
            if not rows:
                break
            parts.append(_compact(list(rows), columns))
            del rows
    finally:
        cur.close()
    return _concat(parts, columns)


def _compact(rows: list[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    if not rows:
        return _frame([], columns)
    a = np.array(rows, dtype=object)
    return pd.DataFrame({c: _column(a[:, j], KINDS.get(c, "c")) for j, c in enumerate(columns)})


def _objcat(cat: Any) -> pd.Categorical:
    """The same categorical with plain object categories (a union may infer another string dtype)."""
    return pd.Categorical.from_codes(np.asarray(cat.codes), categories=pd.Index(
        np.asarray(cat.categories, dtype=object), dtype=object))


def _concat(parts: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Frames of one shape, categories united."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _frame([], columns)
    if len(parts) == 1:
        return parts[0]
    out = {}
    for c in columns:
        vals = [p[c] for p in parts]
        if all(isinstance(v.dtype, pd.CategoricalDtype) for v in vals):
            out[c] = pd.Series(_objcat(pd.api.types.union_categoricals([_objcat(v.array) for v in vals])))
        else:
            out[c] = pd.concat(vals, ignore_index=True)
    return pd.DataFrame(out)


_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).strftime(_SQLITE_TS)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


def _insert_many(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk insert: the driver's executemany of tuples on SQLite, SQLAlchemy's executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    cols = list(rows[0])
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cur = raw.cursor()
    cur.executemany(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                    _sqlite_tuples(rows, cols))
    cur.close()


def _sqlite_tuples(rows: list[dict[str, Any]], cols: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows as tuples for sqlite3, dates and instants as the text SQLAlchemy stores (each distinct
    value converted once: a run writes one ``now`` and few deadlines)."""
    columns = []
    for c in cols:
        vals = [r[c] for r in rows]
        sample = next((v for v in vals if v is not None), None)     # a column holds one type
        if isinstance(sample, (dt.date, bool)):
            seen: dict[Any, Any] = {}
            conv = []
            for v in vals:
                k = (type(v), v)
                if k not in seen:
                    seen[k] = _sqlite_value(v)
                conv.append(seen[k])
            vals = conv
        columns.append(vals)
    return list(zip(*columns, strict=True))


def _update_many(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk update by id (``b_id`` in each row) of the other columns given."""
    if not rows:
        return
    cols = [c for c in rows[0] if c != "b_id"]
    if conn.dialect.name != "sqlite":
        conn.execute(update(table).where(table.c.id == bindparam("b_id")).values({c: bindparam(c) for c in cols}),
                     rows)
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cur = raw.cursor()
    cur.executemany(f"UPDATE {table.name} SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                    _sqlite_tuples(rows, [*cols, "b_id"]))
    cur.close()


def _by_keys(conn: Connection, sql: str, keys: Iterable[Key], lead: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (ending in a WHERE clause) for (carrier, tracking_number) keys, a chunk at a time,
    through the (carrier, tracking_number) indexes."""
    by_carrier: dict[str, list[str]] = {}
    for c, t in keys:
        by_carrier.setdefault(c, []).append(t)
    out: list[tuple[Any, ...]] = []
    for carrier, tns in sorted(by_carrier.items()):
        tns = sorted(set(tns))
        for i in range(0, len(tns), CHUNK):
            part = tns[i:i + CHUNK]
            marks = ", ".join("?" for _ in part)
            out += _raw_rows(conn, f"{sql} carrier = ? AND tracking_number IN ({marks})", [*lead, carrier, *part])
    return out


_SHIP_SQL = f"SELECT {', '.join(SHIPMENT_FIELDS)} FROM shipment WHERE manifested = ? AND ship_date IS NOT NULL"
_SCAN_SQL = f"SELECT {', '.join(SCAN_FIELDS)} FROM scan_event"
# account-level lines (no tracking number: fees, service and pickup charges) belong to no parcel
_LINE_SQL = f"SELECT {', '.join(LINE_FIELDS)} FROM invoice_line"
_ACCOUNT_SQL = _LINE_SQL + " WHERE amount_cents > 0 AND tracking_number IS NULL"
_SPECIAL = tuple(dict.fromkeys((*FINAL_STATUSES, "lost", "damaged")))


def load_frames(engine: Engine, keys: Iterable[Key] | None = None, *, all_scans: bool = False) -> AuditFrames:
    """The audit's frames: every manifested shipment, or those of ``keys``. A full load reads only the
    scans the rules need (see the module docstring) unless ``all_scans``."""
    with engine.connect() as conn:
        return _load(conn, None if keys is None else set(keys), all_scans)


Range = tuple[str, str | None, str | None]     # carrier, tracking numbers from (inclusive), to (exclusive)


def _range_sql(conn: Connection, ranges: Sequence[Range] | None) -> tuple[str, list[object]]:
    """A filter on a slice of the parcels. On SQLite the unary + keeps it off the indexes: one pass over the
    table is cheaper than an index walk with a table lookup per row."""
    if ranges is None:
        return "", []
    plus = "+" if conn.dialect.name == "sqlite" else ""
    terms: list[str] = []
    params: list[object] = []
    for carrier, lo, hi in ranges:
        t = [f"{plus}carrier = ?"]
        params.append(carrier)
        if lo is not None:
            t.append(f"{plus}tracking_number >= ?")
            params.append(lo)
        if hi is not None:
            t.append(f"{plus}tracking_number < ?")
            params.append(hi)
        terms.append("(" + " AND ".join(t) + ")")
    return " AND (" + " OR ".join(terms) + ")", params


def _load(conn: Connection, keys: set[Key] | None, all_scans: bool, ranges: Sequence[Range] | None = None
          ) -> AuditFrames:
    true = True
    if keys is not None:
        parcels = {k for k in keys if k[1] != ""}
        ships = _compact(_by_keys(conn, _SHIP_SQL + " AND", parcels, [true]), SHIPMENT_FIELDS)
        scans = _compact(_by_keys(conn, _SCAN_SQL + " WHERE", parcels), SCAN_FIELDS)
        lines = _compact(_by_keys(conn, _LINE_SQL + " WHERE amount_cents > 0 AND tracking_number IS NOT NULL AND",
                                  parcels), LINE_FIELDS)
        accounts = sorted({c for c, t in keys if t == ""})
        if accounts:
            marks = ", ".join("?" for _ in accounts)
            acct = _compact(_raw_rows(conn, f"{_ACCOUNT_SQL} AND carrier IN ({marks})", accounts), LINE_FIELDS)
            lines = _concat([lines, acct], LINE_FIELDS)
        return prepare_frames(ships, scans, lines)
    where, wp = _range_sql(conn, ranges)
    ships = _fetch(conn, _SHIP_SQL + where, [true, *wp], SHIPMENT_FIELDS)
    lines = _fetch(conn, _LINE_SQL + " WHERE amount_cents > 0 AND tracking_number IS NOT NULL" + where, wp, LINE_FIELDS)
    # account-level lines: read by the one slice of each carrier that starts at its first tracking number
    acct_carriers = None if ranges is None else sorted({c for c, lo, _ in ranges if lo is None})
    if acct_carriers is None or acct_carriers:
        a_where = "" if acct_carriers is None else f" AND carrier IN ({', '.join('?' for _ in acct_carriers)})"
        acct = _fetch(conn, _ACCOUNT_SQL + a_where, acct_carriers or [], LINE_FIELDS)
        lines = _concat([lines, acct], LINE_FIELDS)
    if all_scans:
        return prepare_frames(ships, _fetch(conn, _SCAN_SQL + " WHERE 1 = 1" + where, wp, SCAN_FIELDS), lines)
    marks = ", ".join("?" for _ in _SPECIAL)
    special = _fetch(conn, f"{_SCAN_SQL} WHERE (status IN ({marks}) OR exception_reason IS NOT NULL){where}",
                     [*_SPECIAL, *wp], SCAN_FIELDS)
    fin = special[np.isin(special["status"].to_numpy(dtype=object), FINAL_STATUSES)]
    final_keys = set((fin["carrier"].to_numpy(dtype=object) + "\x1f"
                      + fin["tracking_number"].to_numpy(dtype=object)).tolist())
    ship_keys = ships["carrier"].to_numpy(dtype=object) + "\x1f" + ships["tracking_number"].to_numpy(dtype=object)
    open_ = ships[np.array([k not in final_keys for k in ship_keys.tolist()], dtype=bool)]
    if len(open_) > FULL_SCAN_SHARE * max(len(ships), 1):
        scans = _fetch(conn, _SCAN_SQL + " WHERE 1 = 1" + where, wp, SCAN_FIELDS)
    else:
        rest = _compact(_by_keys(conn, _SCAN_SQL + " WHERE", zip(open_["carrier"].to_numpy(dtype=object),
                                                                  open_["tracking_number"].to_numpy(dtype=object),
                                                                  strict=True)), SCAN_FIELDS)
        scans = _concat([special, rest], SCAN_FIELDS)
        scans = scans[~scans["id"].duplicated()].reset_index(drop=True)
    return prepare_frames(ships, scans, lines)


# ----------------------------------------------------------------------------- state

def _state(conn: Connection) -> dict[str, str]:
    return {r.key: r.value for r in conn.execute(select(ST.c.key, ST.c.value).where(ST.c.key.like("audit:%")))}


def _put_state(conn: Connection, values: dict[str, str]) -> None:
    have = {r.key for r in conn.execute(select(ST.c.key).where(ST.c.key.in_(list(values))))}
    for k, v in values.items():
        if k in have:
            conn.execute(update(ST).where(ST.c.key == k).values(value=v))
        else:
            conn.execute(insert(ST).values(key=k, value=v))


def fingerprint(contracts: ContractSet) -> str:
    """Changes when a contract file (or a file it points to) or the audit rules change."""
    h = hashlib.sha256()
    for p in sorted(Path(str(rules_module.__file__)).parent.glob("*.py")):   # every rule module
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    h.update(Path(str(weights_module.__file__)).read_bytes())
    folder = Path(contracts.folder)
    if folder.is_dir():
        for p in sorted(x for x in folder.rglob("*") if x.is_file()):
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    for e in contracts.errors:
        h.update(e.encode())
    return h.hexdigest()


def _marks(conn: Connection, ship: bool = True) -> dict[str, str]:
    """High-water marks: the last scan and invoice line ids, the latest manifest change (a full pass over
    the shipments: an incremental run takes it from the changed rows instead)."""
    out = {K_SCAN: str(conn.execute(select(func.max(SCT.c.id))).scalar() or 0),
           K_LINE: str(conn.execute(select(func.max(LT.c.id))).scalar() or 0),
           K_FILE: str(conn.execute(select(func.max(IFT.c.id))).scalar() or 0)}
    if ship:
        at = conn.execute(select(func.max(SHT.c.updated_at))).scalar()
        out[K_SHIP] = at.isoformat() if at else ""
    return out


def _changed_keys(conn: Connection, state: dict[str, str], as_of: dt.date) -> tuple[set[Key], str, str]:
    """The shipments an incremental run must re-judge, a note of why, and the new manifest mark."""
    keys: set[Key] = set()
    notes = []
    rows = _raw_rows(conn, "SELECT carrier, tracking_number FROM scan_event WHERE id > ?", [int(state[K_SCAN])])
    scanned = {(r[0], r[1]) for r in rows}
    keys |= scanned
    rows = _raw_rows(conn, "SELECT carrier, tracking_number FROM invoice_line WHERE id > ? AND tracking_number IS NOT NULL", [int(state[K_LINE])])
    billed = {(r[0], r[1]) for r in rows}
    keys |= billed
    # new account-level lines: their carrier's account findings (tracking number "") are judged again
    keys |= {(str(r[0]), "") for r in _raw_rows(
        conn, "SELECT DISTINCT carrier FROM invoice_line WHERE id > ? AND tracking_number IS NULL", [int(state[K_LINE])])}
    n_scan, n_line = len(scanned), len(billed)
    q = select(SHT.c.carrier, SHT.c.tracking_number, SHT.c.updated_at)
    if state.get(K_SHIP):
        # updated_at comes from the ingest's clock, which a replay (--as-of) sets back or holds still:
        # a row written by a file loaded after the last run counts as changed whatever its instant
        since = SHT.c.updated_at > dt.datetime.fromisoformat(state[K_SHIP])
        q = q.where(or_(since, SHT.c.file_id > int(state[K_FILE])) if state.get(K_FILE) else since)
    changed = conn.execute(q).all()
    keys |= {(r[0], r[1]) for r in changed}
    ship_mark = max((r[2] for r in changed), default=None)
    old_mark = dt.datetime.fromisoformat(state[K_SHIP]) if state.get(K_SHIP) else None
    if ship_mark is not None and old_mark is not None:
        ship_mark = max(ship_mark, old_mark)    # never backwards (rows of a replayed day, caught by file id)
    new_mark = ship_mark.isoformat() if ship_mark is not None else state.get(K_SHIP, "")
    notes.append(f"{n_scan} with new scans, {n_line} with new invoice lines, {len(changed)} manifest rows changed")
    last = dt.date.fromisoformat(state[K_AS_OF])
    if as_of > last:
        closing = conn.execute(select(FT.c.carrier, FT.c.tracking_number).where(FT.c.status == "open")
                               .where(FT.c.deadline >= last).where(FT.c.deadline < as_of).distinct()).all()
        keys |= {(r[0], r[1]) for r in closing}
        watch = json.loads(state.get(K_WATCH) or "{}")
        due = [k for k, d in watch.items() if last.isoformat() < d <= as_of.isoformat()]
        keys |= {tuple(k.split("\x1f", 1)) for k in due}  # type: ignore[misc]
        notes.append(f"{len(closing)} with a window closing, {len(due)} turning lost or void since {last}")
    return keys, "; ".join(notes), new_mark


# ----------------------------------------------------------------------------- parallel full runs

PARALLEL_MIN = 200_000
MAX_WORKERS = 4


def _partitions(conn: Connection, n: int) -> list[list[Range]]:
    """Slices of the parcels for n workers, of about equal size: whole carriers, the big ones cut by
    tracking number; [] when there are too few parcels to be worth it."""
    counts = [(str(r[0]), int(r[1])) for r in conn.execute(
        select(SHT.c.carrier, func.count()).group_by(SHT.c.carrier).order_by(SHT.c.carrier))]
    total = sum(c for _, c in counts)
    if n < 2 or total < PARALLEL_MIN:
        return []
    piece = max(1, total // (2 * n))
    chunks: list[tuple[int, Range]] = []
    for carrier, count in counts:
        k = max(1, -(-count // piece))
        bounds: list[str | None] = [None]
        for i in range(1, k):
            r = conn.execute(select(SHT.c.tracking_number).where(SHT.c.carrier == carrier)
                             .order_by(SHT.c.tracking_number).limit(1).offset(i * count // k)).first()
            if r is not None and r[0] != bounds[-1]:
                bounds.append(str(r[0]))
        bounds.append(None)
        for lo, hi in itertools.pairwise(bounds):
            chunks.append((count // (len(bounds) - 1), (carrier, lo, hi)))
    parts: list[list[Range]] = [[] for _ in range(n)]
    load = [0] * n
    for size, rng in sorted(chunks, key=lambda x: -x[0]):     # largest first to the least loaded
        i = load.index(min(load))
        parts[i].append(rng)
        load[i] += size
    return [p for p in parts if p]


def _judge_slice(url: str, contracts: ContractSet, as_of: dt.date, ranges: list[Range]) -> AuditResult:
    """A worker: load one slice of the parcels and audit it."""
    from recoup.store.db import make_engine

    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            frames = _load(conn, None, False, ranges)
        return run_audit(frames, contracts, as_of)
    finally:
        eng.dispose()


def _judge_parallel(engine: Engine, contracts: ContractSet, as_of: dt.date, parts: list[list[Range]]) -> AuditResult:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    url = engine.url.render_as_string(hide_password=False)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=len(parts), mp_context=ctx) as pool:
        results = list(pool.map(_judge_slice, [url] * len(parts), [contracts] * len(parts), [as_of] * len(parts),
                                parts))
    found = [r.findings for r in results if len(r.findings)]
    rechecks = [r.recheck for r in results if len(r.recheck)]
    warnings: Counter[str] = Counter()
    for r in results:
        warnings.update(r.warnings)
    return AuditResult(pd.concat(found, ignore_index=True) if found else results[0].findings, warnings,
                       sum(r.audited for r in results),
                       pd.concat(rechecks, ignore_index=True) if rechecks else results[0].recheck)


# ----------------------------------------------------------------------------- the audit

def audit(engine: Engine, contracts: ContractSet, as_of: dt.date, *, clock: Clock,
          approval_threshold: Decimal | None = None, actor: str = "worker", full: bool = False,
          workers: int | None = None) -> AuditSummary:
    """Audit, persist findings, open/update/cancel claims; incremental unless ``full`` (module docstring).
    ``as_of`` is the audit's "today"; every instant written (findings, history, claims, credit
    matches) is ``clock.now()``, one instant for the run.
    A full run of PARALLEL_MIN shipments or more is judged by ``workers`` processes (default: one per CPU,
    at most MAX_WORKERS), each over a slice of the parcels; the findings are written by this one."""
    summary = AuditSummary(as_of=as_of)
    printed = fingerprint(contracts)
    with engine.connect() as conn:
        state = _state(conn)
        why = ("--full" if full else "first run" if K_AS_OF not in state or K_SCAN not in state
               else "contracts or audit rules changed" if state.get(K_PRINT) != printed
               else f"audit date moved back from {state[K_AS_OF]}" if as_of < dt.date.fromisoformat(state[K_AS_OF])
               else "")
        scope: set[Key] | None = None
        parts: list[list[Range]] = []
        # marks are read before the data: what arrives meanwhile is judged again next time
        marks = _marks(conn, ship=bool(why))
        if why:
            n = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
            parts = _partitions(conn, n) if n > 1 else []
            frames = None if parts else _load(conn, None, False)
        else:
            scope, why, marks[K_SHIP] = _changed_keys(conn, state, as_of)
            frames = _load(conn, scope, False)
    summary.mode = "incremental" if scope is not None else "full"
    summary.why = why
    if frames is None:
        result = _judge_parallel(engine, contracts, as_of, parts)
    else:
        result = run_audit(frames, contracts, as_of)
        del frames
    summary.shipments = result.audited
    summary.warnings = result.warnings
    for e in contracts.errors:
        summary.warnings[f"contract not loaded: {e}"] += 1
    found = result.findings
    threshold = to_cents(approval_threshold) if approval_threshold is not None else None
    audited_carriers = {c.carrier for c in contracts.contracts}
    watch: dict[str, str] = {} if scope is None else json.loads(state.get(K_WATCH) or "{}")
    if scope is not None:
        for c, t in scope:
            watch.pop(f"{c}\x1f{t}", None)
    for c, t, d in result.recheck[["carrier", "tracking_number", "recheck"]].itertuples(index=False):
        watch[f"{c}\x1f{t}"] = d.isoformat()
    now = clock.now()
    with engine.begin() as conn:
        _persist(conn, found, scope, audited_carriers, summary, threshold, actor, now)
        _put_state(conn, {**marks, K_AS_OF: as_of.isoformat(), K_PRINT: printed,
                          K_WATCH: json.dumps(watch, sort_keys=True, separators=(",", ":")),
                          "last_as_of": as_of.isoformat(), "last_run": now.isoformat()})
        # the findings that hold now, of the carriers audited (the same after a full or incremental run)
        summary.by_kind = Counter({r[0]: int(r[1]) for r in conn.execute(
            select(FT.c.kind, func.count()).where(FT.c.status == "open")
            .where(FT.c.carrier.in_(sorted(audited_carriers))).group_by(FT.c.kind))})
        summary.findings = sum(summary.by_kind.values())
    return summary


def _date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _existing(conn: Connection, scope: set[Key] | None, carriers: set[str]) -> list[dict[str, Any]]:
    cols = ["id", "key", "status", *FIELDS]
    sql = f"SELECT {', '.join(cols)} FROM finding WHERE"
    if scope is None:
        marks = ", ".join("?" for _ in carriers)
        rows = _raw_rows(conn, f"{sql} carrier IN ({marks})", sorted(carriers)) if carriers else []
    else:
        rows = _by_keys(conn, sql, ((c, t) for c, t in scope if c in carriers))
    out = []
    for r in rows:
        d = dict(zip(cols, r, strict=True))
        d["deadline"] = _date(d["deadline"])
        d["claimable"] = bool(d["claimable"])
        out.append(d)
    return out


def _claims_of(conn: Connection, finding_ids: list[int]) -> dict[int, Any]:
    cols = ["id", "finding_id", "status", "claimed_cents", "deadline"]
    sql = f"SELECT {', '.join(cols)} FROM claim"
    ids = sorted(set(finding_ids))
    rows: list[tuple[Any, ...]] = []
    if len(ids) > 20 * CHUNK:
        rows = _raw_rows(conn, sql)
    else:
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            rows += _raw_rows(conn, f"{sql} WHERE finding_id IN ({', '.join('?' for _ in part)})", part)
    want = set(ids)
    out: dict[int, Any] = {}
    for r in rows:
        if int(r[1]) in want:
            c = _ClaimRow(int(r[0]), int(r[1]), str(r[2]), int(r[3]), _date(r[4]))
            out[c.finding_id] = c
    return out


@dataclass
class _ClaimRow:
    id: int
    finding_id: int
    status: str
    claimed_cents: int
    deadline: dt.date | None


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _records(found: pd.DataFrame) -> list[dict[str, Any]]:
    """Findings as plain Python dicts (ints, bools, dates, str or None)."""
    if not len(found):
        return []
    cols: dict[str, list[Any]] = {}
    for c in FINDING_COLUMNS:
        s = found[c]
        if c == "amount_cents":
            cols[c] = s.to_numpy(dtype=np.int64).tolist()
        elif c == "claimable":
            cols[c] = s.to_numpy(dtype=bool).tolist()
        elif c == "invoice_line_id":
            cols[c] = [None if v is None or v != v else int(v) for v in s.tolist()]
        else:
            cols[c] = [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
                       for v in s.to_numpy(dtype=object).tolist()]
    return [dict(zip(FINDING_COLUMNS, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]


def _detail(vals: dict[str, Any]) -> str:
    # json.dumps({k: str(v)}) of three values that need no escaping, written out (160k of them per full run)
    return f'{{"amount_cents": "{vals["amount_cents"]}", "deadline": "{vals["deadline"]}", "claimable": "{vals["claimable"]}"}}'


def _persist(conn: Connection, found: pd.DataFrame, scope: set[Key] | None, carriers: set[str],
             summary: AuditSummary, threshold: int | None, actor: str, now: dt.datetime) -> None:
    old_rows = _existing(conn, scope, carriers)
    old_by_key = {o["key"]: i for i, o in enumerate(old_rows)}
    new_recs = _records(found)
    seen: set[str] = set()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    fid_of: dict[str, int] = {}
    for f in new_recs:
        seen.add(f["key"])
        i = old_by_key.get(f["key"])
        if i is None:
            inserts.append(f)
            continue
        o = old_rows[i]
        fid = int(o["id"])
        fid_of[f["key"]] = fid
        changed = {k: f[k] for k in TRACKED if _clean(o[k]) != f[k]}
        if changed or o["status"] != "open" or o["reason"] != f["reason"] or o["evidence"] != f["evidence"]:
            updates.append({"b_id": fid, "status": "open", "updated_at": now, **{k: f[k] for k in FIELDS}})
            if changed or o["status"] != "open":
                history.append({"finding_id": fid, "at": now, "change": "reopened" if o["status"] != "open" else "updated",
                                "detail": json.dumps({k: str(v) for k, v in changed.items()})})
                summary.updated += 1
    if inserts:
        before = conn.execute(select(func.max(FT.c.id))).scalar() or 0
        _insert_many(conn, FT, [{"key": f["key"], "status": "open", "first_seen": now, "updated_at": now,
                                 **{k: f[k] for k in FIELDS}} for f in inserts])
        want = {f["key"] for f in inserts}
        for fid, key in _raw_rows(conn, "SELECT id, key FROM finding WHERE id > ?", [before]):
            if key in want:
                fid_of[key] = int(fid)
        history += [{"finding_id": fid_of[f["key"]], "at": now, "change": "opened", "detail": _detail(f)}
                    for f in inserts]
        summary.new += len(inserts)
    _update_many(conn, FT, updates)
    # withdrawn: open findings of the judged scope (audited carriers) that no longer hold
    gone = [o for o in old_rows if o["key"] not in seen and o["status"] == "open"]
    if gone:
        _update_many(conn, FT, [{"status": "withdrawn", "updated_at": now, "b_id": int(o["id"])} for o in gone])
        history += [{"finding_id": int(o["id"]), "at": now, "change": "withdrawn",
                     "detail": "no longer holds on the current data"} for o in gone]
        summary.withdrawn += len(gone)
    _insert_many(conn, HT, history)
    # claims
    claims = _claims_of(conn, [*fid_of.values(), *(int(o["id"]) for o in gone)])
    new_claims: list[dict[str, Any]] = []
    claim_updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for f in new_recs:
        fid = fid_of[f["key"]]
        claim = claims.get(fid)
        if f["claimable"] and claim is None:
            needs = threshold is not None and f["amount_cents"] > threshold
            new_claims.append({
                "finding_id": fid, "kind": f["kind"], "carrier": f["carrier"], "tracking_number": f["tracking_number"],
                "status": "ready", "claimed_cents": f["amount_cents"], "credited_cents": 0, "currency": f["currency"],
                "deadline": f["deadline"], "idempotency_key": idempotency_key(f["key"]), "needs_approval": needs,
                "created_at": now, "updated_at": now,
                "_detail": "opened for a claimable finding"
                           + ("; waits for approval (above the approval threshold)" if needs else "")})
        elif claim is not None and claim.status in UNFILED and (
                claim.claimed_cents != f["amount_cents"] or claim.deadline != f["deadline"]):
            claim_updates.append({"b_id": int(claim.id), "claimed_cents": f["amount_cents"], "deadline": f["deadline"],
                                  "updated_at": now})
            events.append({"claim_id": int(claim.id), "from_status": claim.status, "to_status": claim.status,
                           "actor": actor, "at": now,
                           "detail": f"finding updated: amount {f['amount_cents']} cents, deadline {f['deadline']}"})
    if new_claims:
        before = conn.execute(select(func.max(CT.c.id))).scalar() or 0
        _insert_many(conn, CT, [{k: v for k, v in c.items() if k != "_detail"} for c in new_claims])
        detail = {c["finding_id"]: c["_detail"] for c in new_claims}
        for cid, fid in _raw_rows(conn, "SELECT id, finding_id FROM claim WHERE id > ?", [before]):
            if int(fid) in detail:
                events.append({"claim_id": int(cid), "from_status": None, "to_status": "ready", "actor": actor,
                               "at": now, "detail": detail[int(fid)]})
        summary.claims_opened += len(new_claims)
    _update_many(conn, CT, claim_updates)
    summary.claims_updated += len(claim_updates)
    _insert_many(conn, ET, events)
    for o in gone:
        claim = claims.get(int(o["id"]))
        if claim is not None and claim.status in UNFILED:
            move(conn, int(claim.id), claim.status, "cancelled", actor, "finding withdrawn: it no longer holds",
                 now=now)
            summary.claims_cancelled += 1
