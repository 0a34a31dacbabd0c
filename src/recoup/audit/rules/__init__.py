"""The audit rules: ``run_audit(frames, contracts, as_of)`` returns one row per finding.

The first 11 kinds of spec/audits.md (lost, damaged, void_label, late_delivery and the seven billing
kinds) are judged together in ``core`` (they share one pass: a claimable service finding suppresses
the billing findings it refunds). Every kind added since (issue 13) is one module here with ``INFO``
and a pure ``rule(contract, facts, as_of) -> Judged`` over facts computed once per contract
(``base.Facts``), listed in order in ``RULES``. Adding a kind = one module + its test + one line in
``RULES`` + its page in docs/rules/.
"""

from __future__ import annotations

import datetime as dt
import json
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from recoup.audit.rules import (
    account_fee,
    additional_handling,
    charge_correction,
    declared_value,
    large_package,
    late_delivery_first_attempt,
    minimum_charge,
    missing_incentive,
    peak_surcharge,
    return_charge,
    saturday_delivery,
    service_mismatch,
    signature,
    unmanifested_charge,
    zone_mismatch,
)
from recoup.audit.rules.base import Facts, Judged, LineSet, RuleInfo, lines_of
from recoup.audit.rules.core import (
    BILLING_KINDS,
    FINAL_STATUSES,
    FINDING_COLUMNS,
    LINE_FIELDS,
    RECHECK_COLUMNS,
    SCAN_FIELDS,
    SERVICE_KINDS,
    SHIPMENT_FIELDS,
    AuditFrames,
    AuditResult,
    _Found,
    _keys,
    _sid_of,
    _str_col,
    _txt,
    format_local,
    fuel_percent,
    prepare_frames,
    relevant_scans,
)
from recoup.audit.rules.core import run_audit as _core_audit
from recoup.audit.rules.existing import CORE_RULES
from recoup.sla.contracts import Contract, ContractSet

__all__ = [
    "BILLING_KINDS",
    "CORE_RULES",
    "FINAL_STATUSES",
    "FINDING_COLUMNS",
    "LINE_FIELDS",
    "RECHECK_COLUMNS",
    "RULES",
    "SCAN_FIELDS",
    "SERVICE_KINDS",
    "SHIPMENT_FIELDS",
    "AuditFrames",
    "AuditResult",
    "Facts",
    "Judged",
    "RuleInfo",
    "all_rules",
    "format_local",
    "fuel_percent",
    "prepare_frames",
    "relevant_scans",
    "rule_rows",
    "run_audit",
]

# The kinds added by issue 13, in the order they are judged. One line per kind.
RULES: list[ModuleType] = [
    unmanifested_charge,
    account_fee,
    service_mismatch,
    saturday_delivery,
    declared_value,
    additional_handling,
    large_package,
    charge_correction,
    peak_surcharge,
    return_charge,
    missing_incentive,
    zone_mismatch,
    minimum_charge,
    late_delivery_first_attempt,
    signature,
]
NEW_KINDS = tuple(m.INFO.kind for m in RULES)


def all_rules() -> list[RuleInfo]:
    """Every finding kind recoup judges: the 11 of audits.md, then RULES (what ``recoup rules`` lists)."""
    return [*CORE_RULES, *(m.INFO for m in RULES)]


def rule_rows() -> list[dict[str, Any]]:
    """``all_rules()`` as plain rows (what ``recoup rules`` prints)."""
    return [{"kind": r.kind, "description": r.description, "automatic": r.automatic, "sources": list(r.sources),
             "contract_keys": list(r.contract_keys), "doc": r.doc} for r in all_rules()]


def run_audit(frames: AuditFrames, contracts: ContractSet, as_of: dt.date, *, trace: bool = False) -> AuditResult:
    """The findings of spec/audits.md and of every rule in RULES. ``trace=True`` also returns, per shipment
    and invoice line, what the rules saw and decided (``recoup explain``)."""
    fx: dict[int, dict[str, Any]] = {}
    res = _core_audit(frames, contracts, as_of, trace=trace, facts=fx)
    if not RULES:
        return res
    as_of_day = int(np.datetime64(as_of, "D").view("int64"))
    core_kinds: dict[int, set[str]] = {}
    f = res.findings
    if len(f):
        ids = f["invoice_line_id"].to_numpy(dtype=object)
        has = np.array([v is not None and v == v for v in ids.tolist()], dtype=bool)
        for i, k in zip(ids[has].tolist(), f["kind"].to_numpy(dtype=object)[has].tolist(), strict=True):
            core_kinds.setdefault(int(i), set()).add(str(k))
    orphans, account = _unattached(frames, contracts)
    parts = [res.findings] if len(res.findings) else []
    for c_i in sorted(set(fx) | set(orphans) | set(account)):
        c = contracts.contracts[c_i]
        facts = _facts(c, fx.get(c_i), orphans.get(c_i), account.get(c_i), as_of_day, core_kinds, trace)
        found = _Found(c.carrier, c.currency, as_of_day)
        for mod in RULES:
            judged: Judged = mod.rule(c, facts, as_of)
            for w, cnt in judged.warnings.items():
                res.warnings[w] += cnt
            if trace:
                for line_id, v in judged.verdicts.items():
                    res.line_trace.setdefault(int(line_id), {})[judged.kind] = v
            _add(found, facts, judged)
        fr = found.frame()
        if len(fr):
            parts.append(fr)
    if len(parts) > 1 or (parts and parts[0] is not res.findings):
        res.findings = pd.DataFrame(pd.concat(parts, ignore_index=True)[FINDING_COLUMNS])
    return res


def _add(found: _Found, facts: Facts, j: Judged) -> None:
    if not len(j):
        return
    ls = lines_of(facts, j.on)
    rows = np.asarray(j.rows, dtype=np.int64)
    deadline = (ls.day[rows] + facts.contract.claims.dispute_window_days if j.deadline is None
                else np.asarray(j.deadline, dtype=np.int64))
    ok = facts.as_of_day <= deadline
    excl = j.not_claimable or [None] * len(rows)
    claimable = ok & np.array([x is None for x in excl], dtype=bool)
    reasons = []
    for r, x, okk, d in zip(j.reasons, excl, ok.tolist(), deadline.tolist(), strict=True):
        if x:
            r += f"; not claimable: {x}"
        elif not okk:
            r += f"; window closed on {dt.date(1970, 1, 1) + dt.timedelta(days=int(d))}"
        reasons.append(r)
    evidence = [json.dumps({"line": int(i), **e}, sort_keys=True, default=str)
                for i, e in zip(ls.id[rows].tolist(), j.evidence or [{}] * len(rows), strict=True)]
    found.add(j.kind, ls.tn[rows], ls.invoice[rows], ls.id[rows], np.asarray(j.amounts, dtype=np.int64),
              ls.currency[rows], deadline, claimable, reasons, evidence)


def _unattached(frames: AuditFrames, contracts: ContractSet) -> tuple[dict[int, pd.DataFrame], dict[int, pd.DataFrame]]:
    """Positive lines of no manifested parcel (orphans) and account-level lines, by contract index (the
    contract of the line's carrier and account). Lines of a carrier without contract are not judged."""
    ln = frames.lines
    if not len(ln):
        return {}, {}
    pos = ln[ln["amount_cents"].to_numpy(dtype=np.int64) > 0]
    if not len(pos):
        return {}, {}
    tn = _str_col(pos["tracking_number"])
    no_tn = np.array([t is None or t == "" for t in tn.tolist()], dtype=bool)
    with_tn = pos[~no_tn]
    sid = _sid_of(_keys(frames.shipments), with_tn) if len(frames.shipments) else np.full(len(with_tn), -1)
    orphan = with_tn[sid < 0]
    acct = pos[no_tn]
    out: list[dict[int, pd.DataFrame]] = []
    for part in (orphan, acct):
        by: dict[int, pd.DataFrame] = {}
        if len(part):
            car = _txt(part["carrier"])
            accn = _str_col(part["account_number"])
            ci = np.full(len(part), -1, dtype=np.int64)
            memo: dict[tuple[str, Any], int] = {}
            for i, k in enumerate(zip(car.tolist(), accn.tolist(), strict=True)):
                if k not in memo:
                    m = contracts.match(k[0], k[1] or None)
                    memo[k] = -1 if m is None else next(j for j, x in enumerate(contracts.contracts) if x is m)
                ci[i] = memo[k]
            for c_i in sorted(set(ci[ci >= 0].tolist())):
                by[c_i] = part[ci == c_i].reset_index(drop=True)
        out.append(by)
    return out[0], out[1]


def _facts(c: Contract, fx: dict[str, Any] | None, orphans: pd.DataFrame | None, account: pd.DataFrame | None,
           as_of_day: int, core_kinds: dict[int, set[str]], trace: bool) -> Facts:
    z_o = np.zeros(0, dtype=object)
    z_i = np.zeros(0, dtype=np.int64)
    if fx:
        billed = fx["billed"]
        b_sid = billed["sid"].to_numpy(dtype=np.int64) if len(billed) else z_i
        b_type = _txt(billed["charge_type"]) if len(billed) else z_o
        reportable = ~fx["suppress_all"][b_sid] & ~(fx["late_claimable"][b_sid] & np.isin(
            b_type, list(c.claims.late_refund_charges)))
        lines = LineSet.of(billed, b_sid, fx["tn"][b_sid], reportable)
        ships, tn, svc, ship_day = fx["ships"], fx["tn"], fx["svc"], fx["ship_day"]
        delivered, deliv_day, kind = fx["delivered"], fx["deliv_day"], fx["service_kind"]
        e_sid, e_status, e_reason, e_day = fx["e_sid"], fx["e_status"], fx["e_reason"], fx["e_day"]
        extra = {k: fx[k] for k in ("e_occ", "deliv_ns", "deadline_ns", "late_file_by")}
    else:
        extra = {}
        lines = LineSet.of(pd.DataFrame(), z_i, z_o)
        ships = pd.DataFrame()
        tn = svc = kind = e_status = e_reason = z_o
        ship_day = deliv_day = e_sid = e_day = z_i
        delivered = np.zeros(0, dtype=bool)
    o = orphans if orphans is not None else pd.DataFrame()
    a = account if account is not None else pd.DataFrame()
    return Facts(
        contract=c, as_of_day=as_of_day, ships=ships, tn=tn, svc=svc, ship_day=ship_day, delivered=delivered,
        deliv_day=deliv_day, service_kind=kind, e_sid=e_sid, e_status=e_status, e_reason=e_reason, e_day=e_day,
        lines=lines,
        orphans=LineSet.of(o, np.full(len(o), -1, dtype=np.int64), _txt(o["tracking_number"]) if len(o) else z_o),
        account=LineSet.of(a, np.full(len(a), -1, dtype=np.int64), np.full(len(a), "", dtype=object)),
        core_kinds=core_kinds, trace=trace, **extra)

