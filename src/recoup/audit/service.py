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

The bookkeeping is in :mod:`recoup.audit.incremental`, the reading of the store in
:mod:`recoup.audit.frames`, the writing of findings and claims in :mod:`recoup.audit.persist`.

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

import contextlib
import datetime as dt
import functools
import gc
import itertools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, func, select
from sqlalchemy.engine import Engine

from recoup.audit.frames import Key, Range, load, load_frames
from recoup.audit.incremental import (
    K_AS_OF,
    K_OPEN,
    K_PRINT,
    K_SCAN,
    K_SHIP,
    K_WATCH,
    changed_keys,
    fingerprint,
    put_state,
    read_state,
)
from recoup.audit.incremental import marks as read_marks
from recoup.audit.persist import AuditSummary, persist
from recoup.audit.rules import AuditFrames, AuditResult, numbering_order, run_audit
from recoup.audit.rules._vector import _keys, _sid_of
from recoup.clock import Clock
from recoup.money import to_cents
from recoup.sla.contracts import ContractSet
from recoup.store.models import Finding, Shipment, table_of

__all__ = ["AuditSummary", "audit", "fingerprint", "load_frames"]

FT = table_of(Finding)
SHT = table_of(Shipment)


# ----------------------------------------------------------------------------- parallel full runs

PARALLEL_MIN = 200_000
MAX_WORKERS = 4
PIECE_SHIPMENTS = 100_000     # parcels a worker judges at once (the rules' working memory follows it)


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


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once (``find_library`` runs ``ldconfig``), or None."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):    # pragma: no cover - not glibc
        return None


def _release() -> None:
    """Give freed memory back to the system (glibc keeps the heap the driver's row tuples grew)."""
    gc.collect()
    pa.default_memory_pool().release_unused()    # Arrow's allocator keeps what the packed and COPY reads freed
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _pieces(frames: AuditFrames, budget: int) -> Iterator[AuditFrames]:
    """The frames in pieces of at most ``budget`` shipments (a carrier's together where it fits), each
    with the scans and lines of its shipments; the rows of no manifested shipment (account-level lines,
    unmanifested parcels) go with the last piece. A piece is judged as the whole would be: the rules
    judge a parcel on its own rows (a worker's slice is cut the same way)."""
    ships = frames.shipments
    n = len(ships)
    k = -(-n // max(budget, 1))
    if k <= 1:
        yield frames
        return
    size = -(-n // k)
    order = np.argsort(np.asarray(ships["carrier"].astype("category").cat.codes), kind="stable")
    piece = np.empty(n, dtype=np.int64)
    piece[order] = np.arange(n) // size
    keys = _keys(ships)

    def piece_of(df: pd.DataFrame, keys: pa.Array) -> np.ndarray:
        """Each row's piece: its shipment's, or the last for a row of no manifested shipment."""
        sid = _sid_of(keys, df)
        return np.where(sid >= 0, piece[np.maximum(sid, 0)], k - 1)

    sc_piece, ln_piece = piece_of(frames.scans, keys), piece_of(frames.lines, keys)
    del keys
    for i in range(k):
        yield AuditFrames(ships[piece == i].reset_index(drop=True),
                          frames.scans[sc_piece == i].reset_index(drop=True),
                          frames.lines[ln_piece == i].reset_index(drop=True))


def _merge(results: list[AuditResult]) -> AuditResult:
    found = [r.findings for r in results if len(r.findings)]
    rechecks = [r.recheck for r in results if len(r.recheck)]
    warnings: Counter[str] = Counter()
    for r in results:
        warnings.update(r.warnings)
    return AuditResult(pd.concat(found, ignore_index=True) if found else results[0].findings, warnings,
                       sum(r.audited for r in results),
                       pd.concat(rechecks, ignore_index=True) if rechecks else results[0].recheck)


def _judge_slice(url: str, contracts: ContractSet, as_of: dt.date, ranges: list[Range]) -> AuditResult:
    """A worker: load one slice of the parcels (one read) and audit it, ``PIECE_SHIPMENTS`` at a time:
    the rules' working memory follows the piece, not the slice."""
    from recoup.store.db import make_engine

    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            frames = load(conn, None, False, ranges)
    finally:
        eng.dispose()
    _release()
    results: list[AuditResult] = []
    for piece in _pieces(frames, PIECE_SHIPMENTS):
        results.append(run_audit(piece, contracts, as_of))
        del piece
        _release()
    return _merge(results)


def _judge_parallel(engine: Engine, contracts: ContractSet, as_of: dt.date, parts: list[list[Range]]) -> AuditResult:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    url = engine.url.render_as_string(hide_password=False)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=len(parts), mp_context=ctx) as pool:
        results = list(pool.map(_judge_slice, [url] * len(parts), [contracts] * len(parts), [as_of] * len(parts),
                                parts))
    return _merge(results)


# ----------------------------------------------------------------------------- the audit

def audit(engine: Engine, contracts: ContractSet, as_of: dt.date, *, clock: Clock,
          approval_threshold: Decimal | None = None, actor: str = "worker", full: bool = False,
          workers: int | None = None) -> AuditSummary:
    """Audit, persist findings, open/update/cancel claims; incremental unless ``full`` (module docstring).
    ``as_of`` is the audit's "today"; every instant written (findings, history, claims, credit
    matches) is ``clock.now()``, one instant for the run.
    A full run of PARALLEL_MIN shipments or more is judged by ``workers`` processes (default: one per CPU,
    at most MAX_WORKERS), each over a slice of the parcels; the findings are written by this one."""
    with contextlib.ExitStack() as paused:
        return _audit(engine, contracts, as_of, clock, approval_threshold, actor, full, workers, paused)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No automatic garbage collection for a while. An incremental run makes a few hundred thousand
    short-lived row tuples, and each full collection walks every one of them (two such took 86 ms of a
    0.7 s run); what it allocates is freed by reference counting, and collection resumes after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _audit(engine: Engine, contracts: ContractSet, as_of: dt.date, clock: Clock, approval_threshold: Decimal | None,
           actor: str, full: bool, workers: int | None, paused: contextlib.ExitStack) -> AuditSummary:
    summary = AuditSummary(as_of=as_of)
    printed = fingerprint(contracts)
    with engine.connect() as conn:
        state = read_state(conn)
        why = ("--full" if full else "first run" if K_AS_OF not in state or K_SCAN not in state
               else "contracts or audit rules changed" if state.get(K_PRINT) != printed
               else f"audit date moved back from {state[K_AS_OF]}" if as_of < dt.date.fromisoformat(state[K_AS_OF])
               else "")
        scope: set[Key] | None = None
        parts: list[list[Range]] = []
        # marks are read before the data: what arrives meanwhile is judged again next time
        marks = read_marks(conn, ship=bool(why))
        if why:
            n = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
            parts = _partitions(conn, n) if n > 1 else []
            frames = None if parts else load(conn, None, False)
        else:
            paused.enter_context(_gc_paused())
            scope, why, marks[K_SHIP] = changed_keys(conn, state, as_of)
            frames = load(conn, scope, False)
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
    found = result.findings = numbering_order(result.findings)    # the unordered frame is not kept beside it
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
        change = persist(conn, found, scope, audited_carriers, summary, threshold, actor, now)
        summary.by_kind = _open_by_kind(conn, audited_carriers, state.get(K_OPEN) if scope is not None else None,
                                        change)
        summary.findings = sum(summary.by_kind.values())
        put_state(conn, {**marks, K_AS_OF: as_of.isoformat(), K_PRINT: printed,
                          K_WATCH: json.dumps(watch, sort_keys=True, separators=(",", ":")),
                          K_OPEN: json.dumps(dict(sorted(summary.by_kind.items())), separators=(",", ":")),
                          "last_as_of": as_of.isoformat(), "last_run": now.isoformat()})
    return summary


def _open_by_kind(conn: Connection, carriers: set[str], before: str | None, change: Counter[str]) -> Counter[str]:
    """The findings that hold now, of the carriers audited, by kind (the same after a full or an
    incremental run). An incremental run adds its change to the last run's counts (``before``, stored
    with the audit's state; only the audit writes findings, and a change of contracts, and so of the
    carriers audited, makes a full run); a full run, or counts that would go negative, count the table."""
    if before is not None:
        counts = Counter({str(k): int(v) for k, v in json.loads(before).items()})
        counts.update(change)
        if min(counts.values(), default=0) >= 0:
            return +counts
    return Counter({r[0]: int(r[1]) for r in conn.execute(
        select(FT.c.kind, func.count()).where(FT.c.status == "open")
        .where(FT.c.carrier.in_(sorted(carriers))).group_by(FT.c.kind))})
