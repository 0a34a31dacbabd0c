"""What every rule module of ``recoup.audit.rules`` shares: the facts computed once per contract, the
shape of a rule's answer, and the description a rule gives of itself (``recoup rules``).

A rule is a module with ``INFO`` (a :class:`RuleInfo`) and ``rule(contract, facts, as_of) -> Judged``: a
pure function over the facts, vectorised over the invoice lines (numpy arrays, no loop per line except
to word reasons for the lines it finds, and verdicts when ``facts.trace``). The registry is the ordered
``RULES`` list in ``recoup/audit/rules/__init__.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recoup.sla.contracts import Contract

if TYPE_CHECKING:
    from recoup.audit.rules._late import Lateness

EMPTY_I = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class RuleInfo:
    """What ``recoup rules`` lists: the finding kind, one line on what it finds, the documents it rests
    on, the contract keys it reads, and whether a finding can be claimed without a person."""

    kind: str
    description: str
    sources: tuple[str, ...]
    contract_keys: tuple[str, ...]
    doc: str = ""                 # docs/rules/<kind>.md for the kinds of issue 13; audits.md for the first 11
    automatic: bool = True        # False: reported for a person, never filed by itself


@dataclass
class LineSet:
    """Invoice lines as arrays, one row per line (a view of a frame, in its order)."""

    frame: pd.DataFrame
    sid: np.ndarray            # the line's shipment (row of Facts.ships), -1 for lines of no manifested parcel
    id: np.ndarray
    type: np.ndarray           # charge_type
    amount: np.ndarray         # int cents
    day: np.ndarray            # invoice date, days since 1970-01-01
    invoice: np.ndarray
    currency: np.ndarray       # None: the contract's
    tn: np.ndarray             # tracking number ("" for account-level lines)
    service: np.ndarray        # the service the line bills (None when the invoice does not say)
    adjustment: np.ndarray     # charge_correction | residential_adjustment | ... | None
    description: np.ndarray
    reportable: np.ndarray     # False: a claimable service finding refunds it (audits.md "one service finding")

    def __len__(self) -> int:
        return len(self.id)

    @staticmethod
    def of(frame: pd.DataFrame, sid: np.ndarray, tn: np.ndarray, reportable: np.ndarray | None = None) -> LineSet:
        from recoup.audit.rules._vector import _days, _str_col, _txt

        n = len(frame)
        if not n:
            z = np.zeros(0, dtype=object)
            return LineSet(frame, EMPTY_I, EMPTY_I, z, EMPTY_I, EMPTY_I, z, z, z, z, z, z, np.zeros(0, dtype=bool))

        def col(name: str) -> np.ndarray:
            return _str_col(frame[name]) if name in frame else np.full(n, None, dtype=object)

        return LineSet(
            frame=frame, sid=np.asarray(sid, dtype=np.int64), id=frame["id"].to_numpy(dtype=np.int64),
            type=_txt(frame["charge_type"]), amount=frame["amount_cents"].to_numpy(dtype=np.int64),
            day=_days(frame["invoice_date"]), invoice=_txt(frame["invoice_number"]), currency=col("currency"),
            tn=np.asarray(tn, dtype=object), service=col("service"), adjustment=col("adjustment"),
            description=col("description"),
            reportable=np.ones(n, dtype=bool) if reportable is None else np.asarray(reportable, dtype=bool))


@dataclass
class Facts:
    """Computed once per contract (``facts.build``), read by every rule.

    Shipments (index = ``sid``): the manifest rows and what is known of each parcel (its events, its
    delivery, what was billed, its value due, its lateness, and which service finding applies to it:
    ``service_kind``, the first of lost, damaged, void_label, late_delivery). ``lines``: the billed
    parcel charges (positive lines, duplicates out, in the billed order of audits.md); ``dups``: the
    positive lines that repeat an earlier one; ``orphans``: positive lines of tracking numbers no
    manifest names; ``account``: account-level lines (no tracking number).

    Set by the runner between rules (``recoup.audit.rules.runner``): ``lines.reportable`` (False where a
    claimable service finding refunds the line) and ``found_kinds`` (invoice line id -> the kinds the
    rules before found on it, for precedence)."""

    contract: Contract
    as_of_day: int
    ships: pd.DataFrame
    tn: np.ndarray
    svc: np.ndarray
    ship_day: np.ndarray
    delivered: np.ndarray
    deliv_day: np.ndarray          # local date of the first delivery, days (NAT when not delivered)
    service_kind: np.ndarray       # lost | damaged | void_label | late_delivery | ""
    e_sid: np.ndarray              # events, ordered per shipment by instant (ties in read order)
    e_status: np.ndarray
    e_reason: np.ndarray
    e_day: np.ndarray              # local date of each event, days
    lines: LineSet
    orphans: LineSet
    account: LineSet
    dups: LineSet = field(default_factory=lambda: LineSet.of(pd.DataFrame(), EMPTY_I, EMPTY_I))
    found_kinds: dict[int, set[str]] = field(default_factory=dict)
    trace: bool = False
    e_occ: np.ndarray = field(default_factory=lambda: EMPTY_I)        # event instants, ns UTC
    e_off: np.ndarray = field(default_factory=lambda: EMPTY_I)        # recorded UTC offset, minutes (0: none)
    e_has_off: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    deliv_ns: np.ndarray = field(default_factory=lambda: EMPTY_I)     # first delivery instant (NAT: none)
    deliv_row: np.ndarray = field(default_factory=lambda: EMPTY_I)    # its event row (-1: none)
    deadline_ns: np.ndarray = field(default_factory=lambda: EMPTY_I)  # late_delivery's deadline instant (NAT)
    late_file_by: np.ndarray = field(default_factory=lambda: EMPTY_I)  # late_delivery's filing deadline, days
    tz: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # the parcel's time zone
    final: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))          # a final event
    carrier_scan: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))   # an event but a label
    has_events: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    lost_event: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    last_day: np.ndarray = field(default_factory=lambda: EMPTY_I)     # local date of the last event (NAT)
    dmg_row: np.ndarray = field(default_factory=lambda: EMPTY_I)      # first damaged event / damage exception
    dmg_day: np.ndarray = field(default_factory=lambda: EMPTY_I)
    final_row: np.ndarray = field(default_factory=lambda: EMPTY_I)    # first final event (-1: none)
    excl_row: np.ndarray = field(default_factory=lambda: EMPTY_I)     # first excluded exception before delivery
    billed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    first_inv_day: np.ndarray = field(default_factory=lambda: EMPTY_I)  # first invoice date (NAT: not billed)
    billed_cents: np.ndarray = field(default_factory=lambda: EMPTY_I)   # sum of the billed lines
    value_due: np.ndarray = field(default_factory=lambda: EMPTY_I)
    liability_why: Callable[[int], str] = field(default=lambda i: "")
    onset: np.ndarray = field(default_factory=lambda: EMPTY_I)        # audit date time alone changes it (NAT)
    late: Lateness | None = None                                      # ``_late.lateness`` of the parcels
    warnings: Counter[str] = field(default_factory=Counter)           # of computing the facts
    shared: dict[str, Any] = field(default_factory=dict)              # computed once for several rules

    @property
    def n(self) -> int:
        return len(self.tn)


@dataclass
class Judged:
    """A rule's answer: findings on lines of one LineSet (``on``: lines | dups | orphans | account) or on
    parcels (``on="ships"``: rows are shipments), as parallel arrays, and, when ``facts.trace``, a
    verdict per line it looked at ("yes: ...", "no: ...", "not judged: ...") and, for a kind judged per
    parcel, per parcel (``parcel_verdicts``, shipment row -> verdict): what ``recoup explain`` shows."""

    kind: str
    on: str = "lines"
    rows: np.ndarray = field(default_factory=lambda: EMPTY_I)          # positions in the LineSet
    amounts: np.ndarray = field(default_factory=lambda: EMPTY_I)       # int cents
    reasons: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    not_claimable: list[str | None] | None = None       # why a finding is not claimable (besides its window)
    verdicts: dict[int, str] = field(default_factory=dict)            # invoice line id -> verdict
    parcel_verdicts: dict[int, str] = field(default_factory=dict)     # shipment row -> verdict
    warnings: Counter[str] = field(default_factory=Counter)
    deadline: np.ndarray | None = None                  # days; None: the line's invoice date + dispute window
    window_note: bool = True                            # the reason of an unclaimable finding says why

    def __len__(self) -> int:
        return len(self.rows)


def lines_of(facts: Facts, on: str) -> LineSet:
    return {"lines": facts.lines, "dups": facts.dups, "orphans": facts.orphans, "account": facts.account}[on]


def described(ls: LineSet, pattern: str) -> np.ndarray:
    """Lines whose ``description`` matches a regular expression (case-insensitive), vectorised."""
    if not len(ls):
        return np.zeros(0, dtype=bool)
    d = pd.Series(ls.description, dtype=object)
    return d.str.contains(pattern, case=False, regex=True, na=False).to_numpy(dtype=bool)


def candidates(ls: LineSet, mask: np.ndarray) -> np.ndarray:
    """Positions of the reportable lines of ``mask``."""
    return np.flatnonzero(mask & ls.reportable) if len(ls) else EMPTY_I


def dispute_deadline(facts: Facts, ls: LineSet, rows: np.ndarray) -> np.ndarray:
    """The billing dispute deadline of lines: invoice date + ``claims.dispute_window_days``."""
    return ls.day[rows] + facts.contract.claims.dispute_window_days


def evidence_json(line_id: int, extra: dict[str, Any] | None = None) -> str:
    return json.dumps({"line": int(line_id), **(extra or {})}, sort_keys=True, default=str)


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 of days since 1970-01-01 (a Thursday)."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def day_text(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()


@dataclass
class Measures:
    """A parcel's manifest measures in the contract's units: dimensions rounded to whole units as the
    contract's ``dim_rounding`` says, longest first (-1 where any is missing), and the actual weight
    (exact, None where missing)."""

    dims: np.ndarray               # shape (n, 3), int, descending; -1 rows where a dimension is missing
    weight: list[Any]              # Fraction | None

    @property
    def has_dims(self) -> np.ndarray:
        return np.asarray((self.dims >= 0).all(axis=1), dtype=bool)

    @property
    def girth(self) -> np.ndarray:
        """Length + girth: longest + 2 x (the other two)."""
        return self.dims[:, 0] + 2 * (self.dims[:, 1] + self.dims[:, 2])


def measures(facts: Facts, sid: np.ndarray) -> Measures:
    """The manifest measures of the shipments ``sid`` (each distinct value converted once)."""
    from recoup.audit.rules._vector import _str_col
    from recoup.audit.weights import _frac, convert_dim, convert_weight, round_dim

    c = facts.contract
    sh = facts.ships
    n = len(sid)
    dims = np.full((n, 3), -1, dtype=np.int64)
    weights: list[Any] = [None] * n
    if not n:
        return Measures(dims, weights)
    du = _str_col(sh["dim_unit"])[sid]
    memo: dict[tuple[Any, Any], int] = {}
    for j, col in enumerate(("length", "width", "height")):
        vals = _str_col(sh[col])[sid]
        for i, (v, u) in enumerate(zip(vals.tolist(), du.tolist(), strict=True)):
            k = (v, u)
            if k not in memo:
                f = _frac(v)
                memo[k] = -1 if f is None else round_dim(convert_dim(f, u, c.dim_unit), c.dim_rounding)
            dims[i, j] = memo[k]
    dims = -np.sort(-dims, axis=1)
    dims[(dims < 0).any(axis=1)] = -1
    wv = _str_col(sh["weight"])[sid]
    wu = _str_col(sh["weight_unit"])[sid]
    wmemo: dict[tuple[Any, Any], Any] = {}
    for i, k in enumerate(zip(wv.tolist(), wu.tolist(), strict=True)):
        if k not in wmemo:
            f = _frac(k[0])
            wmemo[k] = None if f is None else convert_weight(f, k[1], c.weight_unit)
        weights[i] = wmemo[k]
    return Measures(dims, weights)
