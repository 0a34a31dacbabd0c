"""``late_delivery``: a guaranteed service delivered after its deadline (``_late``; lost, damaged and
void_label come first): the refunded charge types (``claims.late_refund_charges``) back. Not claimable
after an excluded exception before the delivery, or while the guarantee is suspended.
shared/spec/audits.md #late_delivery, docs/rules/late_delivery.md."""

from __future__ import annotations

import datetime as dt

import numpy as np

from recoup.audit.rules._late import suspensions
from recoup.audit.rules._service import _SPEC, event_at, evidence, others
from recoup.audit.rules._vector import _sum_per
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    "late_delivery", "a guaranteed service delivered after its commit time: the refunded charge types",
    (f"{_SPEC} #late_delivery", "domain.md §1 [R1][R2][R17][R36]"),
    ("services.guaranteed", "services.transit_days", "services.commit_time", "claims.late_window_days",
     "claims.late_window_from", "claims.late_refund_charges", "claims.excluded_exception_reasons",
     "gsr_suspensions", "gsr_relaxations"), "docs/rules/late_delivery.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    out = Judged(INFO.kind, on="ships")
    if not facts.n:
        return out
    late = facts.late
    assert late is not None
    is_late = facts.service_kind == "late_delivery"
    ti = np.flatnonzero(is_late)
    ls = facts.lines
    refundable = np.isin(ls.type, list(contract.claims.late_refund_charges))
    r_rows = np.flatnonzero(refundable & is_late[ls.sid]) if len(ls) else np.zeros(0, dtype=np.int64)
    r_sid = ls.sid[r_rows]
    lines_of: dict[int, list[int]] = {}
    if len(r_rows):
        o = np.argsort(r_sid, kind="stable")
        for s_, i_ in zip(r_sid[o].tolist(), ls.id[r_rows][o].tolist(), strict=True):
            lines_of.setdefault(s_, []).append(i_)
    susp = suspensions(contract, facts.svc[ti], facts.ship_day[ti])
    excluded: list[str | None] = []
    xr = facts.excl_row[ti]
    xm = xr >= 0
    x_at = iter(event_at(facts, xr[xm], ti[xm]))
    for j, i in enumerate(ti.tolist()):
        if facts.excl_row[i] >= 0:
            excluded.append(f"excluded: {facts.e_reason[facts.excl_row[i]]} exception at {next(x_at)}")
        elif susp[j] is not None:
            sp = susp[j]
            assert sp is not None
            excluded.append(f"guarantee suspended {sp.start}..{sp.end} for {facts.svc[i]}")
        else:
            excluded.append(None)
    out.rows, out.amounts = ti, _sum_per(r_sid, ls.amount[r_rows], facts.n)[ti]
    out.deadline = facts.late_file_by[ti]
    out.reasons = [late.reason[i] for i in ti.tolist()]
    out.not_claimable = excluded
    out.evidence = [evidence(facts, i, lines=lines_of.get(i, [])) for i in ti.tolist()]
    rest = others(facts, ti)
    if rest:
        dl = np.flatnonzero(facts.delivered)
        shown = dict(zip(dl.tolist(), event_at(facts, facts.deliv_row[dl], dl), strict=True))
        for i in rest:
            other = facts.service_kind[i]
            at, by = shown.get(i), late.promised.get(i)
            out.parcel_verdicts[i] = (
                f"not judged: {late.why_not[i]}" if late.why_not.get(i) else
                f"no: {other} comes first (delivered {at}, promised by {by})" if late.late[i] and other else
                f"no: delivered {at}, promised by {by}: on time" if by and at else "no")
    return out
