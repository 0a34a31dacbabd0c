"""The incremental audit's bookkeeping: what the last run saw (``audit_state`` under ``audit:*``
keys), and from it which shipments a run must judge again.

- data: shipments whose manifest row changed (``shipment.updated_at`` after the last run's mark, or
  written by a later file), or that got new scans or invoice lines (ids above the last run's
  high-water marks);
- time, when the audit date moves forward from A to B: shipments with an open finding whose
  deadline falls in [A, B), and shipments that turn lost or void on a day in (A, B] (the rules say
  when: ``AuditResult.recheck``, kept under ``audit:watch``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from sqlalchemy import Connection, func, insert, or_, select, update

from recoup.audit import rules as rules_module
from recoup.audit import weights as weights_module
from recoup.sla.contracts import ContractSet
from recoup.store.bulk import raw_rows
from recoup.store.models import AuditState, Finding, IngestedFile, InvoiceLine, ScanEvent, Shipment, table_of

FT = table_of(Finding)
ST = table_of(AuditState)
SHT = table_of(Shipment)
SCT = table_of(ScanEvent)
LT = table_of(InvoiceLine)
IFT = table_of(IngestedFile)

K_SCAN, K_LINE, K_SHIP = "audit:scan_max_id", "audit:line_max_id", "audit:shipment_mark"
K_FILE = "audit:file_max_id"    # manifest rows written by a later file changed too (clock-independent)
K_AS_OF, K_PRINT, K_WATCH = "audit:as_of", "audit:fingerprint", "audit:watch"
K_OPEN = "audit:open_by_kind"   # the open findings of the audited carriers by kind, after the last run

Key = tuple[str, str]


def read_state(conn: Connection) -> dict[str, str]:
    return {r.key: r.value for r in conn.execute(select(ST.c.key, ST.c.value).where(ST.c.key.like("audit:%")))}


def put_state(conn: Connection, values: dict[str, str]) -> None:
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


def marks(conn: Connection, ship: bool = True) -> dict[str, str]:
    """High-water marks: the last scan and invoice line ids, the latest manifest change (a full pass over
    the shipments: an incremental run takes it from the changed rows instead)."""
    out = {K_SCAN: str(conn.execute(select(func.max(SCT.c.id))).scalar() or 0),
           K_LINE: str(conn.execute(select(func.max(LT.c.id))).scalar() or 0),
           K_FILE: str(conn.execute(select(func.max(IFT.c.id))).scalar() or 0)}
    if ship:
        at = conn.execute(select(func.max(SHT.c.updated_at))).scalar()
        out[K_SHIP] = at.isoformat() if at else ""
    return out


def changed_keys(conn: Connection, state: dict[str, str], as_of: dt.date) -> tuple[set[Key], str, str]:
    """The shipments an incremental run must re-judge, a note of why, and the new manifest mark."""
    keys: set[Key] = set()
    notes = []
    rows = raw_rows(conn, "SELECT carrier, tracking_number FROM scan_event WHERE id > ?", [int(state[K_SCAN])])
    scanned = {(r[0], r[1]) for r in rows}
    keys |= scanned
    rows = raw_rows(conn, "SELECT carrier, tracking_number FROM invoice_line WHERE id > ? AND tracking_number IS NOT NULL", [int(state[K_LINE])])
    billed = {(r[0], r[1]) for r in rows}
    keys |= billed
    # new account-level lines: their carrier's account findings (tracking number "") are judged again
    # (no DISTINCT in SQL: SQLite would answer it by walking the whole parcel index, not the new ids)
    keys |= {(str(r[0]), "") for r in raw_rows(
        conn, "SELECT carrier FROM invoice_line WHERE id > ? AND tracking_number IS NULL", [int(state[K_LINE])])}
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


def nothing_new(conn: Connection, contracts: ContractSet, as_of: dt.date) -> str | None:
    """Why an incremental audit as of ``as_of`` would judge no shipment at all, or None when it may
    have something to judge: the same audit date as the last run (a day passing is something new:
    windows close, parcels turn lost), the same contracts and rules, all of them loaded, and no
    scan, invoice line or ingested file since the last run's marks. Every manifest row is written
    with the id of the file that brought it (a new ``ingested_file`` row), so an unchanged file mark
    means no manifest row changed either."""
    state = read_state(conn)
    if contracts.errors or K_AS_OF not in state or K_SCAN not in state or K_FILE not in state:
        return None
    if state[K_AS_OF] != as_of.isoformat() or state.get(K_PRINT) != fingerprint(contracts):
        return None
    now = marks(conn, ship=False)
    if any(now[k] != state.get(k) for k in (K_SCAN, K_LINE, K_FILE)):
        return None
    return (f"nothing new since the last audit (as of {as_of}): no new scan, invoice line or file, "
            "the same contracts and rules")
