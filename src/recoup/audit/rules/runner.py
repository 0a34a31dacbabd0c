"""The runner: ``run_audit(frames, contracts, as_of)`` judges every rule of ``RULES`` over the facts of
each contract and returns one row per finding.

Per contract, in this order:

1. the facts (``facts.build``): computed once, read by every rule;
2. the kinds judged per parcel (lost, damaged, void_label, late_delivery: the first of ``RULES``);
3. ``suppress_refunded``: a claimable service finding refunds the parcel's billed charges (all of them
   for void_label, and for lost and damaged when the contract refunds shipping with a value claim; the
   refunded charge types for late_delivery), so the rules after it do not report those lines
   (spec/audits.md "one service finding");
4. every other rule, in ``RULES`` order; each sees the kinds the rules before it found on a line
   (``facts.found_kinds``, for precedence).

No database, no clock: the same frames, contracts and as-of give the same findings. ``trace=True``
(``recoup explain``) also returns the verdicts the rules returned (``AuditResult.parcel_verdicts`` and
``line_verdicts``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from recoup.audit.rules import facts as facts_module
from recoup.audit.rules._vector import NAT, _dates, _keys, _sid_of, _str_col, _txt, _unique
from recoup.audit.rules.base import Facts, Judged, lines_of
from recoup.audit.rules.frames import (
    BILLING_KINDS,
    FINDING_COLUMNS,
    RECHECK_COLUMNS,
    SERVICE_KINDS,
    AuditFrames,
    AuditResult,
)
from recoup.audit.weights import factorize_pairs
from recoup.sla.contracts import ContractSet

REFUNDED = "refunded"      # the line verdict of ``suppress_refunded``
# The kinds of spec/audits.md: their findings come first in the result, every contract's, then the
# others' (the order of the findings when the first 11 were judged in a pass of their own;
# ``numbering_order`` numbers a run's findings in this order of kinds).
_AUDITS_MD = frozenset((*SERVICE_KINDS, *BILLING_KINDS))


def run_audit(frames: AuditFrames, contracts: ContractSet, as_of: dt.date, *, trace: bool = False,
              rules: list[ModuleType] | None = None) -> AuditResult:
    """The findings of every rule of ``rules`` (default: ``RULES``), see the module docstring."""
    if rules is None:
        from recoup.audit.rules import RULES
        rules = RULES
    warnings: Counter[str] = Counter()
    as_of_day = int(np.datetime64(as_of, "D").view("int64"))
    per, audited = _by_contract(frames, contracts, warnings)
    orphans, account = _unattached(frames, contracts)
    res = AuditResult(pd.DataFrame(columns=FINDING_COLUMNS), warnings, audited)
    first: list[pd.DataFrame] = []
    later: list[pd.DataFrame] = []
    recheck: list[pd.DataFrame] = []
    for c_i in sorted(set(per) | set(orphans) | set(account)):
        c = contracts.contracts[c_i]
        sh, sc, ln = per.get(c_i, (pd.DataFrame(), pd.DataFrame(), pd.DataFrame()))
        facts = facts_module.build(c, sh, sc, ln, orphans.get(c_i), account.get(c_i), as_of_day, trace)
        found = [(j.kind, _found(facts, j)) for j in judge(facts, as_of, rules, res)]
        warnings.update(facts.warnings)
        first += [f for k, f in found if k in _AUDITS_MD and len(f)]
        later += [f for k, f in found if k not in _AUDITS_MD and len(f)]
        if c_i in per:
            ri = np.flatnonzero((facts.onset != NAT) & (facts.onset > as_of_day))
            recheck.append(pd.DataFrame({"carrier": c.carrier, "tracking_number": facts.tn[ri],
                                         "recheck": _dates(facts.onset[ri])}, columns=RECHECK_COLUMNS))
    if first or later:
        res.findings = pd.DataFrame(pd.concat([*first, *later], ignore_index=True)[FINDING_COLUMNS])
    rc = [r for r in recheck if len(r)]
    if rc:
        res.recheck = pd.DataFrame(pd.concat(rc, ignore_index=True))
    elif recheck:
        res.recheck = recheck[0]
    return res


def numbering_order(found: pd.DataFrame) -> pd.DataFrame:
    """The findings in the order a run numbers them: by kind (audits.md's kinds, then the others, each
    group in judging order), then by key (unique). It does not depend on how a full run cut the parcels
    into slices and pieces (the CPUs, the piece size), so the same inputs and as-of give the same ids on
    any machine."""
    from recoup.audit.rules import RULES

    if len(found) < 2:
        return found
    kinds = [m.INFO.kind for m in RULES]
    rank = {k: i for i, k in enumerate([k for k in kinds if k in _AUDITS_MD] + [k for k in kinds if k not in _AUDITS_MD])}
    by = pd.DataFrame({"rank": found["kind"].map(rank).fillna(len(rank)).to_numpy(dtype=np.int64),
                       "key": found["key"].to_numpy(dtype=object)})
    order = by.sort_values(["rank", "key"], kind="stable").index.to_numpy()
    if bool((order[1:] > order[:-1]).all()):
        return found
    return found.take(order).reset_index(drop=True)


def judge(facts: Facts, as_of: dt.date, rules: list[ModuleType], res: AuditResult | None = None) -> list[Judged]:
    """Every rule's answer over one contract's facts (steps 2 to 4 of the module docstring); their
    warnings and, with ``facts.trace``, their verdicts go to ``res``."""
    n_service = 0
    while n_service < len(rules) and rules[n_service].INFO.kind in SERVICE_KINDS:
        n_service += 1
    out: list[Judged] = []
    for i, mod in enumerate(rules):
        if i == n_service:
            refunded = suppress_refunded(facts, {j.kind: j for j in out})
            if res is not None:
                for line_id, v in refunded.items():
                    res.line_verdicts.setdefault(line_id, {})[REFUNDED] = v
        j: Judged = mod.rule(facts.contract, facts, as_of)
        out.append(j)
        if j.on != "ships" and len(j):
            for line_id in lines_of(facts, j.on).id[j.rows].tolist():
                facts.found_kinds.setdefault(int(line_id), set()).add(j.kind)
        if res is not None:
            res.warnings.update(j.warnings)
            for line_id, v in j.verdicts.items():
                res.line_verdicts.setdefault(int(line_id), {})[j.kind] = v
            for sid, v in j.parcel_verdicts.items():
                res.parcel_verdicts.setdefault((facts.contract.carrier, str(facts.tn[sid])), {})[j.kind] = v
    return out


def suppress_refunded(facts: Facts, service: dict[str, Judged]) -> dict[int, str]:
    """Step 3: the billed lines a claimable service finding refunds are not reported by the rules after
    it (``facts.lines.reportable`` False). Returns, with ``facts.trace``, the verdict of each such line."""
    ls = facts.lines
    if not len(ls) or not facts.n:
        return {}

    def claimable(kind: str) -> np.ndarray:
        out = np.zeros(facts.n, dtype=bool)
        j = service.get(kind)
        if j is not None and len(j):
            out[np.asarray(j.rows, dtype=np.int64)[_claimable(facts, j)[1]]] = True
        return out

    k = facts.contract.claims
    suppress_all = claimable("void_label")
    if k.value_claims_refund_shipping:
        suppress_all |= claimable("lost") | claimable("damaged")
    late_cl = claimable("late_delivery")
    ls.reportable = ~suppress_all[ls.sid] & ~(late_cl[ls.sid] & np.isin(ls.type, list(k.late_refund_charges)))
    if not facts.trace:
        return {}
    return {int(i): "refunded by the claimable " + ("late_delivery" if late_cl[s] and not suppress_all[s]
                                                    else str(facts.service_kind[s])) + ": billing rules not reported"
            for i, s, r in zip(ls.id.tolist(), ls.sid.tolist(), ls.reportable.tolist(), strict=True) if not r}


def _claimable(facts: Facts, j: Judged) -> tuple[np.ndarray, np.ndarray]:
    """The deadline (days) and claimable flag of each finding of ``j``: in its window and not excluded."""
    rows = np.asarray(j.rows, dtype=np.int64)
    if j.deadline is None:
        deadline = lines_of(facts, j.on).day[rows] + facts.contract.claims.dispute_window_days
    else:
        deadline = np.asarray(j.deadline, dtype=np.int64)
    ok = facts.as_of_day <= deadline
    if j.not_claimable:
        ok = ok & np.array([x is None for x in j.not_claimable], dtype=bool)
    return deadline, ok


def _found(facts: Facts, j: Judged) -> pd.DataFrame:
    """The finding rows of a rule's answer (FINDING_COLUMNS)."""
    found = _Found(facts.contract.carrier, facts.contract.currency)
    if not len(j):
        return found.frame()
    rows = np.asarray(j.rows, dtype=np.int64)
    deadline, claimable = _claimable(facts, j)
    ok = facts.as_of_day <= deadline
    excl = j.not_claimable or [None] * len(rows)
    reasons = []
    for r, x, okk, d in zip(j.reasons, excl, ok.tolist(), deadline.tolist(), strict=True):
        if x:
            r += f"; not claimable: {x}"
        elif not okk and j.window_note:
            r += f"; window closed on {dt.date(1970, 1, 1) + dt.timedelta(days=int(d))}"
        reasons.append(r)
    amounts = np.asarray(j.amounts, dtype=np.int64)
    if j.on == "ships":
        evidence = [json.dumps(e, sort_keys=True, default=str) for e in j.evidence]
        found.add(j.kind, facts.tn[rows], None, None, amounts, None, deadline, claimable, reasons, evidence)
        return found.frame()
    ls = lines_of(facts, j.on)
    evidence = [json.dumps({"line": int(i), **e}, sort_keys=True, default=str)
                for i, e in zip(ls.id[rows].tolist(), j.evidence or [{}] * len(rows), strict=True)]
    found.add(j.kind, ls.tn[rows], ls.invoice[rows], ls.id[rows], amounts, ls.currency[rows], deadline, claimable,
              reasons, evidence)
    return found.frame()


def _by_contract(frames: AuditFrames, contracts: ContractSet,
                 warnings: Counter[str]) -> tuple[dict[int, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]], int]:
    """The shipments of each contract (by its index; decided once per (carrier, account)) with their scans
    and lines, each with ``sid`` (the shipment's row), and how many shipments have a contract."""
    ships = frames.shipments.reset_index(drop=True)
    if ships.empty:
        return {}, 0
    carriers = _txt(ships["carrier"])
    accounts = _str_col(ships["account_number"])
    pair_codes, pairs = factorize_pairs(carriers, accounts)
    pair_ci = np.full(len(pairs), -1, dtype=np.int64)
    for i, (carrier, account) in enumerate(pairs):
        k = contracts.match(carrier, account or None)
        if k is not None:
            pair_ci[i] = next(j for j, x in enumerate(contracts.contracts) if x is k)
    ci = pair_ci[pair_codes]
    for carrier in sorted(set(carriers[ci < 0])):
        warnings[f"{carrier}: no contract loaded: its shipments are not audited"] += int(
            ((ci < 0) & (carriers == carrier)).sum())
    keys = _keys(ships)
    if not _unique(keys):
        raise ValueError("shipments must be unique by (carrier, tracking_number)")
    sc, ln = frames.scans, frames.lines
    sc_sid = _sid_of(keys, sc)
    ln_sid = _sid_of(keys, ln)
    sc_ci = np.where(sc_sid >= 0, ci[sc_sid], -1) if len(sc) else sc_sid
    ln_ci = np.where(ln_sid >= 0, ci[ln_sid], -1) if len(ln) else ln_sid
    out: dict[int, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}
    audited = 0
    for c_i in sorted(set(ci[ci >= 0].tolist())):
        rows = np.flatnonzero(ci == c_i)
        local = np.full(len(ships), -1, dtype=np.int64)
        local[rows] = np.arange(len(rows))
        sm = sc_ci == c_i
        lm = ln_ci == c_i
        out[c_i] = (ships.iloc[rows].reset_index(drop=True),
                    sc.loc[sm].reset_index(drop=True).assign(sid=local[sc_sid[sm]]),
                    ln.loc[lm].reset_index(drop=True).assign(sid=local[ln_sid[lm]]))
        audited += len(rows)
    return out, audited


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


class _Found:
    """Findings of one contract, gathered column-wise."""

    def __init__(self, carrier: str, currency: str) -> None:
        self.carrier, self.currency = carrier, currency
        self.parts: list[pd.DataFrame] = []

    def add(self, kind: str, tn: np.ndarray, invoice: np.ndarray | None, line_id: np.ndarray | None,
            amount: np.ndarray, currency: np.ndarray | None, deadline: np.ndarray, claimable: np.ndarray,
            reason: list[str], evidence: list[str]) -> None:
        n = len(tn)
        if not n:
            return
        tn_o = np.asarray(tn, dtype=object)
        if line_id is None:
            key = [f"{kind}|{self.carrier}|{t}" for t in tn_o]
            ids: list[object] = [None] * n
            inv: list[object] = [None] * n
        else:
            key = [f"{kind}|{self.carrier}|{t}|{i}" for t, i in zip(tn_o, line_id.tolist(), strict=True)]
            ids = line_id.tolist()
            inv = list(np.asarray(invoice, dtype=object)) if invoice is not None else [None] * n
        cur = [self.currency] * n if currency is None else [
            x if isinstance(x, str) and x else self.currency for x in np.asarray(currency, dtype=object)]
        def obj(v: object) -> pd.Series:
            return pd.Series(v if not isinstance(v, str) else [v] * n, dtype=object)

        self.parts.append(pd.DataFrame({
            "key": obj(key), "kind": obj(kind), "carrier": obj(self.carrier), "tracking_number": obj(tn_o),
            "invoice_number": obj(inv), "invoice_line_id": obj(ids),
            "amount_cents": np.asarray(amount, dtype=np.int64), "currency": obj(cur),
            "deadline": obj(_dates(deadline)), "claimable": np.asarray(claimable, dtype=bool),
            "reason": obj(reason), "evidence": obj(evidence),
        }))

    def frame(self) -> pd.DataFrame:
        return pd.concat(self.parts, ignore_index=True) if self.parts else pd.DataFrame(columns=FINDING_COLUMNS)

