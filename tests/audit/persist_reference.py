"""The audit's writing of results as it was before issue 17 made it columnar (commit 9d91ffb of
src/recoup/audit/persist.py, the loop over one finding at a time): the reference ``tests/audit/test_persist.py``
compares the rows written by :func:`recoup.audit.persist.persist` with. Not a test module."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from recoup.audit.frames import CHUNK, Key, by_keys
from recoup.audit.persist import FIELDS, TRACKED, AuditSummary
from recoup.audit.rules import FINDING_COLUMNS
from recoup.claims.lifecycle import UNFILED, idempotency_key, move
from recoup.store.bulk import insert_many, raw_rows, update_many
from recoup.store.models import Claim, ClaimEvent, Finding, FindingHistory, table_of

FT = table_of(Finding)
CT = table_of(Claim)
HT = table_of(FindingHistory)
ET = table_of(ClaimEvent)


def _date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _existing(conn: Connection, scope: set[Key] | None, carriers: set[str]) -> list[dict[str, Any]]:
    cols = ["id", "key", "status", *FIELDS]
    sql = f"SELECT {', '.join(cols)} FROM finding WHERE"
    if scope is None:
        marks = ", ".join("?" for _ in carriers)
        rows = raw_rows(conn, f"{sql} carrier IN ({marks})", sorted(carriers)) if carriers else []
    else:
        rows = by_keys(conn, sql, ((c, t) for c, t in scope if c in carriers), by_number=True)
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
        rows = raw_rows(conn, sql)
    else:
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            rows += raw_rows(conn, f"{sql} WHERE finding_id IN ({', '.join('?' for _ in part)})", part)
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


def persist(conn: Connection, found: pd.DataFrame, scope: set[Key] | None, carriers: set[str],
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
        insert_many(conn, FT, [{"key": f["key"], "status": "open", "first_seen": now, "updated_at": now,
                                 **{k: f[k] for k in FIELDS}} for f in inserts])
        want = {f["key"] for f in inserts}
        for fid, key in raw_rows(conn, "SELECT id, key FROM finding WHERE id > ?", [before]):
            if key in want:
                fid_of[key] = int(fid)
        history += [{"finding_id": fid_of[f["key"]], "at": now, "change": "opened", "detail": _detail(f)}
                    for f in inserts]
        summary.new += len(inserts)
    update_many(conn, FT, updates)
    # withdrawn: open findings of the judged scope (audited carriers) that no longer hold
    gone = [o for o in old_rows if o["key"] not in seen and o["status"] == "open"]
    if gone:
        update_many(conn, FT, [{"status": "withdrawn", "updated_at": now, "b_id": int(o["id"])} for o in gone])
        history += [{"finding_id": int(o["id"]), "at": now, "change": "withdrawn",
                     "detail": "no longer holds on the current data"} for o in gone]
        summary.withdrawn += len(gone)
    insert_many(conn, HT, history)
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
        insert_many(conn, CT, [{k: v for k, v in c.items() if k != "_detail"} for c in new_claims])
        detail = {c["finding_id"]: c["_detail"] for c in new_claims}
        for cid, fid in raw_rows(conn, "SELECT id, finding_id FROM claim WHERE id > ?", [before]):
            if int(fid) in detail:
                events.append({"claim_id": int(cid), "from_status": None, "to_status": "ready", "actor": actor,
                               "at": now, "detail": detail[int(fid)]})
        summary.claims_opened += len(new_claims)
    update_many(conn, CT, claim_updates)
    summary.claims_updated += len(claim_updates)
    insert_many(conn, ET, events)
    for o in gone:
        claim = claims.get(int(o["id"]))
        if claim is not None and claim.status in UNFILED:
            move(conn, int(claim.id), claim.status, "cancelled", actor, "finding withdrawn: it no longer holds",
                 now=now)
            summary.claims_cancelled += 1
