"""The audit rules of spec/audits.md as pure functions over DataFrames.

``run_audit(frames, contracts, as_of)`` returns one row per finding with its amount (int cents),
currency, deadline, claimable flag, a reason for people and the evidence (JSON). No database, no
clock: the same frames, contracts and as-of give the same findings.

Decisions where audits.md is silent are written in docs/audit-decisions.md, each pinned by a
test in tests/audit/test_rules.py (e.g. a guaranteed service without ``commit_time`` is due at 23:59
local time; a commit time in the spring-forward gap moves forward; empty ``dest_residential`` is not
judged; warnings once per cause).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from recoup.audit.weights import (
    as_decimal,
    billable_increments,
    billed_weight_in,
    compare_billed,
    factorize_pairs,
    weight_text,
)
from recoup.money import fmt
from recoup.sla.calendar import busdaycal, promised_date
from recoup.sla.contracts import LB_IN_KG, Contract, ContractSet, RateCard, Suspension, normalise_postal

SERVICE_KINDS = ("lost", "damaged", "void_label", "late_delivery")
BILLING_KINDS = ("duplicate_charge", "residential_surcharge", "address_correction", "delivery_area_surcharge",
                 "dim_weight", "rate_overcharge", "fuel_surcharge")
FINAL_STATUSES = ("delivered", "returned_to_sender", "available_for_pickup")
FINDING_COLUMNS = ["key", "kind", "carrier", "tracking_number", "invoice_number", "invoice_line_id",
                   "amount_cents", "currency", "deadline", "claimable", "reason", "evidence"]


@dataclass
class AuditFrames:
    """shipments: manifested parcels; scans: events (``id`` = read order); lines: invoice lines."""

    shipments: pd.DataFrame
    scans: pd.DataFrame
    lines: pd.DataFrame


RECHECK_COLUMNS = ["carrier", "tracking_number", "recheck"]


@dataclass
class AuditResult:
    """findings: FINDING_COLUMNS. recheck: the shipments whose findings time alone will change (a parcel
    that turns lost, a label that turns void), with the first audit date it happens (RECHECK_COLUMNS);
    the windows of findings (their deadlines) are the other thing time changes."""

    findings: pd.DataFrame
    warnings: Counter[str] = field(default_factory=Counter)
    audited: int = 0
    recheck: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RECHECK_COLUMNS))
    trace: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    line_trace: dict[int, dict[str, Any]] = field(default_factory=dict)


class _Trace:
    """What the rules saw and decided, per shipment and per invoice line (``run_audit(trace=True)``):
    for ``recoup explain``, so that it explains with the rules' own values instead of computing again."""

    def __init__(self) -> None:
        self.ships: dict[tuple[str, str], dict[str, Any]] = {}
        self.lines: dict[int, dict[str, Any]] = {}

    def line(self, line_id: int) -> dict[str, Any]:
        return self.lines.setdefault(int(line_id), {})


SHIPMENT_FIELDS = ["carrier", "tracking_number", "service", "account_number", "ship_date", "promised_delivery",
                   "dest_postal", "dest_country", "dest_residential", "address_validated", "weight", "weight_unit",
                   "length", "width", "height", "dim_unit", "declared_value_cents", "item_value_cents", "currency",
                   "dest_timezone", "origin_postal", "signature"]
SCAN_FIELDS = ["id", "carrier", "tracking_number", "occurred_at", "utc_offset_min", "status", "exception_reason"]
LINE_FIELDS = ["id", "carrier", "tracking_number", "invoice_number", "invoice_date", "line_no", "charge_type",
               "amount_cents", "billed_weight", "weight_unit", "zone", "currency", "service", "adjustment",
               "description", "account_number"]


def _opt_bool(v: object) -> bool | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return bool(v)


def prepare_frames(shipments: pd.DataFrame, scans: pd.DataFrame, lines: pd.DataFrame) -> AuditFrames:
    """The frames ``run_audit`` expects, from rows as the store returns them (or as tests build them):
    the ``*_FIELDS`` columns; dates as dates or ISO text; instants aware or ISO text with an offset."""
    ships = shipments.reindex(columns=SHIPMENT_FIELDS).copy()
    sc = scans.reindex(columns=SCAN_FIELDS).copy()
    ln = lines.reindex(columns=LINE_FIELDS).copy()
    ships["ship_date"] = pd.to_datetime(ships["ship_date"]).astype("datetime64[ns]")
    for col in ("dest_residential", "address_validated"):
        vals = ships[col].to_numpy(dtype=object)
        if any(not (x is None or isinstance(x, bool)) for x in pd.unique(vals).tolist()):   # 0/1, NaN, numpy bools
            vals = np.array([_opt_bool(v) for v in vals], dtype=object)
        ships[col] = pd.Series(vals, index=ships.index, dtype=object)
    for col in ("declared_value_cents", "item_value_cents"):
        ships[col] = pd.to_numeric(ships[col], errors="coerce").astype("Int64")
    sc["occurred_at"] = pd.to_datetime(sc["occurred_at"], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    sc["utc_offset_min"] = pd.to_numeric(sc["utc_offset_min"], errors="coerce").astype("Int64")
    sc["id"] = sc["id"].astype("int64")
    ln["invoice_date"] = pd.to_datetime(ln["invoice_date"]).astype("datetime64[ns]")
    for col in ("id", "line_no", "amount_cents"):
        ln[col] = ln[col].astype("int64")
    return AuditFrames(ships.reset_index(drop=True), sc.reset_index(drop=True), ln.reset_index(drop=True))


def relevant_scans(scans: pd.DataFrame) -> pd.DataFrame:
    """The scans ``run_audit`` needs: the same findings come out of these as out of all of them.

    A parcel without a final event (delivered, returned to sender, available for pickup) keeps every
    scan: lost needs its latest event and whether it had a carrier scan. A parcel with one is not lost
    and, a final event being a carrier scan, not void; damaged needs its damage events and the
    delivery, late delivery the first delivery and the exceptions before it. So it keeps its final,
    lost and damaged events and those with an exception reason. The service reads the store this way.
    """
    if scans.empty:
        return scans
    status = pd.Series(_txt(scans["status"]), index=scans.index)
    key = pd.Series(_txt(scans["carrier"]) + "\x1f" + _txt(scans["tracking_number"]), index=scans.index)
    final = status.isin(FINAL_STATUSES)
    closed = key.isin(set(key[final]))
    keep = ~closed | status.isin((*FINAL_STATUSES, "lost", "damaged")) | scans["exception_reason"].notna()
    return scans[keep.to_numpy()]


DAY_NS = 86_400_000_000_000
MIN_NS = 60_000_000_000


def _days(values: object) -> np.ndarray:
    """Dates (datetime64 / Timestamps / NaT) as int64 days since 1970-01-01; NaT as INT64 min."""
    return np.asarray(pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]").view("int64"))


NAT = np.iinfo(np.int64).min


def _dates(days: np.ndarray) -> list[dt.date]:
    return list(np.asarray(days, dtype="int64").view("datetime64[D]").astype(object))


def _fmt_local(ts: pd.Timestamp) -> str:
    s = ts.strftime("%Y-%m-%dT%H:%M%z")
    return s[:-2] + ":" + s[-2:]


def _offset_text(minutes: np.ndarray) -> list[str]:
    out = []
    for m in minutes.tolist():
        sign = "-" if m < 0 else "+"
        h, mm = divmod(abs(int(m)), 60)
        out.append(f"{sign}{h:02d}:{mm:02d}")
    return out


def _fmt_instants(ns: np.ndarray, off: np.ndarray, has_off: np.ndarray, tz: np.ndarray) -> list[str]:
    """Local 'YYYY-MM-DDTHH:MM+HH:MM' of UTC instants: in the recorded offset, else the time zone."""
    ns = np.asarray(ns, dtype=np.int64)
    if not len(ns):
        return []
    minutes = np.where(has_off, off, 0).astype(np.int64)
    rest = np.flatnonzero(~has_off)
    if len(rest):
        zones = pd.Series(tz[rest])
        for z, grp in zones.groupby(zones, sort=True).groups.items():
            j = rest[np.asarray(grp)]
            loc = pd.DatetimeIndex(pd.to_datetime(ns[j], utc=True)).tz_convert(str(z)).tz_localize(None)
            minutes[j] = (loc.to_numpy(dtype="datetime64[ns]").view("int64") - ns[j]) // MIN_NS
    local = (ns + minutes * MIN_NS).view("datetime64[ns]").astype("datetime64[m]")
    text = np.datetime_as_string(local, unit="m")
    return [a + b for a, b in zip(text.tolist(), _offset_text(minutes), strict=True)]


def format_local(instants_ns: np.ndarray, offsets: list[int | None], tz: str) -> list[str]:
    """'YYYY-MM-DDTHH:MM+HH:MM' of UTC instants (ns): in the offset recorded with each, else in ``tz``
    (the local time the audit uses for event dates)."""
    off = np.array([0 if o is None or o != o else int(o) for o in offsets], dtype=np.int64)
    has = np.array([o is not None and o == o for o in offsets], dtype=bool)
    return _fmt_instants(np.asarray(instants_ns, dtype=np.int64), off, has, np.full(len(off), tz, dtype=object))


def _keys(df: pd.DataFrame) -> pd.Index:
    return pd.Index(_txt(df["carrier"]) + "\x1f" + _txt(df["tracking_number"]), dtype=object)


def _sid_of(keys: pd.Index, df: pd.DataFrame) -> np.ndarray:
    """Row of each (carrier, tracking_number) of df in ``keys`` (-1: not a manifested shipment), keyed
    once per distinct pair."""
    if not len(df):
        return np.zeros(0, dtype=np.int64)
    codes, pairs = factorize_pairs(df["carrier"], df["tracking_number"])
    pos = keys.get_indexer(pd.Index([f"{c}\x1f{t}" for c, t in pairs], dtype=object))
    return np.asarray(pos, dtype=np.int64)[codes]


def _first_per(sid: np.ndarray, n: int) -> np.ndarray:
    """Index of the first row of each sid in rows sorted by sid (-1 where none)."""
    first = np.full(n, -1, dtype=np.int64)
    if len(sid):
        u, i = np.unique(sid, return_index=True)
        first[u] = i
    return first


def _last_per(sid: np.ndarray, n: int) -> np.ndarray:
    last = np.full(n, -1, dtype=np.int64)
    if len(sid):
        u, i = np.unique(sid[::-1], return_index=True)
        last[u] = len(sid) - 1 - i
    return last


def _day(v: int) -> dt.date | None:
    return None if v == NAT else _dates(np.array([v]))[0]


def _take(values: np.ndarray, rows: np.ndarray, fill: int) -> np.ndarray:
    """values[rows] where rows >= 0, else fill."""
    out = np.full(len(rows), fill, dtype=np.int64)
    m = rows >= 0
    out[m] = values[rows[m]]
    return out


def _any_per(sid: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[sid[mask]] = True
    return out


def _sum_per(sid: np.ndarray, amounts: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, sid, amounts.astype(np.int64))
    return out


def _cat_parts(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    cats = np.asarray(s.cat.categories, dtype=object)
    return np.append(cats, np.array([None], dtype=object)), s.cat.codes.to_numpy()   # code -1 picks the None


def _txt(s: pd.Series) -> np.ndarray:
    """A text column without missing values as an object array of str (no copy through other dtypes)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats, codes = _cat_parts(s)
        return cats[codes]
    if s.dtype == object:
        return s.to_numpy()
    return s.astype(str).to_numpy(dtype=object)


def _str_col(s: pd.Series) -> np.ndarray:
    """Text column as an object array, missing values as None."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats, codes = _cat_parts(s)
        return cats[codes]
    a = s.to_numpy(dtype=object)
    out: np.ndarray = np.where(pd.isna(a), np.array(None, dtype=object), a)
    return out


def run_audit(frames: AuditFrames, contracts: ContractSet, as_of: dt.date, *, trace: bool = False,
              facts: dict[int, dict[str, Any]] | None = None) -> AuditResult:
    """The findings of spec/audits.md. ``trace=True`` also records, per shipment and invoice line, the
    facts each rule used and why it found or did not find (meant for a few shipments: it loops).
    ``facts``, when given, receives per contract (its index in ``contracts.contracts``) what the rules
    of ``recoup.audit.rules`` read (``recoup.audit.rules.facts``)."""
    warnings: Counter[str] = Counter()
    tr = _Trace() if trace else None
    ships = frames.shipments.reset_index(drop=True)
    if ships.empty:
        return AuditResult(pd.DataFrame(columns=FINDING_COLUMNS), warnings, 0)
    # the contract of each shipment, decided once per (carrier, account)
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
    if not keys.is_unique:
        raise ValueError("shipments must be unique by (carrier, tracking_number)")
    sc, ln = frames.scans, frames.lines
    sc_sid = _sid_of(keys, sc)
    ln_sid = _sid_of(keys, ln)
    sc_ci = np.where(sc_sid >= 0, ci[sc_sid], -1) if len(sc) else sc_sid
    ln_ci = np.where(ln_sid >= 0, ci[ln_sid], -1) if len(ln) else ln_sid
    out: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    audited = 0
    for c_i in sorted(set(ci[ci >= 0].tolist())):
        c = contracts.contracts[c_i]
        rows = np.flatnonzero(ci == c_i)
        local = np.full(len(ships), -1, dtype=np.int64)
        local[rows] = np.arange(len(rows))
        sm = sc_ci == c_i
        lm = ln_ci == c_i
        sh = ships.iloc[rows].reset_index(drop=True)
        s_part = sc.loc[sm].reset_index(drop=True).assign(sid=local[sc_sid[sm]])
        l_part = ln.loc[lm].reset_index(drop=True).assign(sid=local[ln_sid[lm]])
        fx: dict[str, Any] | None = None if facts is None else facts.setdefault(c_i, {})
        out.append(_audit_contract(c, sh, s_part, l_part, as_of, warnings, tr, fx))
        audited += len(rows)
    found = [o[0] for o in out if len(o[0])]
    df = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=FINDING_COLUMNS)
    rc = [o[1] for o in out if len(o[1])]
    recheck = pd.concat(rc, ignore_index=True) if rc else pd.DataFrame(columns=RECHECK_COLUMNS)
    res = AuditResult(pd.DataFrame(df[FINDING_COLUMNS]), warnings, audited, pd.DataFrame(recheck))
    if tr is not None:
        res.trace, res.line_trace = tr.ships, tr.lines
    return res


class _Found:
    """Findings of one contract, gathered column-wise."""

    def __init__(self, carrier: str, currency: str, as_of_day: int) -> None:
        self.carrier, self.currency, self.as_of = carrier, currency, as_of_day
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


def _local_days(occ: np.ndarray, off: np.ndarray, has_off: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """Local date (days since epoch) of each instant: in its recorded offset, else its time zone."""
    out = np.zeros(len(occ), dtype=np.int64)
    if has_off.any():
        out[has_off] = (occ[has_off] + off[has_off] * MIN_NS) // DAY_NS
    rest = np.flatnonzero(~has_off)
    if len(rest):
        zones = pd.Series(tz[rest])
        for z, grp in zones.groupby(zones, sort=True).groups.items():
            j = rest[np.asarray(grp)]
            loc = pd.DatetimeIndex(pd.to_datetime(occ[j], utc=True)).tz_convert(str(z)).tz_localize(None)
            out[j] = loc.to_numpy(dtype="datetime64[ns]").view("int64") // DAY_NS
    return out


def _audit_contract(c: Contract, sh: pd.DataFrame, sc: pd.DataFrame, ln: pd.DataFrame, as_of: dt.date,
                    warnings: Counter[str], tr: _Trace | None = None,
                    facts_out: dict[str, Any] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    rules = c.claims
    n = len(sh)
    as_of_day = int(np.datetime64(as_of, "D").view("int64"))
    found = _Found(c.carrier, c.currency, as_of_day)
    tn = _txt(sh["tracking_number"])
    svc = _txt(sh["service"])
    ship_day = _days(sh["ship_date"])
    dest_tz = _str_col(sh["dest_timezone"])
    tz = np.where((dest_tz == None) | (dest_tz == ""), c.calendar.timezone, dest_tz).astype(object)  # noqa: E711

    # ---- events, ordered by instant, ties in read order
    if len(sc):
        occ_all = sc["occurred_at"].to_numpy(dtype="datetime64[ns]").view("int64")
        order = np.lexsort((sc["id"].to_numpy(dtype=np.int64), occ_all, sc["sid"].to_numpy(dtype=np.int64)))
        e_sid = sc["sid"].to_numpy(dtype=np.int64)[order]
        e_occ = occ_all[order]
        off_s = sc["utc_offset_min"]
        e_has_off = off_s.notna().to_numpy()[order]
        e_off = off_s.fillna(0).to_numpy(dtype=np.int64)[order]
        e_status = _txt(sc["status"])[order]
        e_reason = _str_col(sc["exception_reason"])[order]
    else:
        e_sid = e_occ = e_off = np.zeros(0, dtype=np.int64)
        e_has_off = np.zeros(0, dtype=bool)
        e_status = e_reason = np.zeros(0, dtype=object)
    e_day = _local_days(e_occ, e_off, e_has_off, tz[e_sid])
    is_deliv = e_status == "delivered"
    d_rows = np.flatnonzero(is_deliv)
    first_d = _first_per(e_sid[d_rows], n)
    deliv_row = _take(d_rows, first_d, -1)
    delivered = deliv_row >= 0
    deliv_ns = _take(e_occ, deliv_row, NAT)
    deliv_day = _take(e_day, deliv_row, NAT)
    final = _any_per(e_sid, np.isin(e_status, FINAL_STATUSES), n)
    carrier_scan = _any_per(e_sid, e_status != "label_created", n)
    lost_ev = _any_per(e_sid, e_status == "lost", n)
    dmg_rows = np.flatnonzero((e_status == "damaged") | (e_reason == "damage"))
    first_dmg = _first_per(e_sid[dmg_rows], n)
    dmg_row = _take(dmg_rows, first_dmg, -1)
    damaged = dmg_row >= 0
    last_row = _last_per(e_sid, n)
    last_day = _take(e_day, last_row, NAT)
    # an excluded exception strictly before the delivery
    excl_row = np.full(n, -1, dtype=np.int64)
    if len(e_sid) and rules.excluded_exception_reasons:
        m = np.isin(e_reason, list(rules.excluded_exception_reasons)) & delivered[e_sid]
        m &= e_occ < deliv_ns[e_sid]
        x_rows = np.flatnonzero(m)
        fx = _first_per(e_sid[x_rows], n)
        excl_row = _take(x_rows, fx, -1)

    # ---- billed charges (positive lines by invoice date, number as text, line order) and duplicates
    if len(ln):
        pos = ln[ln["amount_cents"].to_numpy(dtype=np.int64) > 0]
    else:
        pos = ln
    if len(pos):
        inv_txt = _txt(pos["invoice_number"])
        inv_code = pd.factorize(inv_txt, sort=True)[0]
        order = np.lexsort((pos["line_no"].to_numpy(dtype=np.int64), inv_code, _days(pos["invoice_date"]),
                            pos["sid"].to_numpy(dtype=np.int64)))
        pos = pos.iloc[order].reset_index(drop=True)
        dup = pos.duplicated(["sid", "charge_type", "amount_cents"], keep="first").to_numpy()
    else:
        dup = np.zeros(0, dtype=bool)
    dups = pos[dup]
    billed = pos[~dup].reset_index(drop=True)
    b_sid = billed["sid"].to_numpy(dtype=np.int64) if len(billed) else np.zeros(0, dtype=np.int64)
    b_amt = billed["amount_cents"].to_numpy(dtype=np.int64) if len(billed) else np.zeros(0, dtype=np.int64)
    b_type = _txt(billed["charge_type"]) if len(billed) else np.zeros(0, dtype=object)
    b_day = _days(billed["invoice_date"]) if len(billed) else np.zeros(0, dtype=np.int64)
    b_id = billed["id"].to_numpy(dtype=np.int64) if len(billed) else np.zeros(0, dtype=np.int64)
    bsum = _sum_per(b_sid, b_amt, n)
    first_b = _first_per(b_sid, n)
    is_billed = first_b >= 0
    first_inv_day = _take(b_day, first_b, NAT)

    # ---- value due
    liab, liab_why = _liability(c, sh)
    item = pd.to_numeric(sh["item_value_cents"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    decl = pd.to_numeric(sh["declared_value_cents"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    value_due = np.minimum(item, np.maximum(decl, liab))

    # ---- service findings: the first of lost, damaged, void_label, late_delivery that applies
    has_last = last_day != NAT
    is_lost = ~final & carrier_scan & (lost_ev | (has_last & (as_of_day - last_day >= rules.lost_after_days)))
    is_dmg = damaged & ~is_lost
    is_void = is_billed & ~carrier_scan & (as_of_day - ship_day >= rules.void_after_days) & ~is_lost & ~is_dmg
    # the audit date from which time alone changes a shipment's findings
    onset = np.full(n, NAT, dtype=np.int64)
    m = ~final & carrier_scan & ~is_lost & has_last
    onset[m] = last_day[m] + rules.lost_after_days
    m = is_billed & ~carrier_scan & ~is_void
    onset[m] = ship_day[m] + rules.void_after_days
    ri = np.flatnonzero((onset != NAT) & (onset > as_of_day))
    recheck = pd.DataFrame({"carrier": c.carrier, "tracking_number": tn[ri], "recheck": _dates(onset[ri])},
                           columns=RECHECK_COLUMNS)
    late = _late(c, sh, svc, tz, delivered, deliv_ns, deliv_day, deliv_row, e_off, e_has_off, first_inv_day,
                 warnings, tr is not None)
    is_late = late["late"] & ~is_lost & ~is_dmg & ~is_void
    refund = rules.value_claims_refund_shipping
    dmg_day = _take(e_day, dmg_row, NAT)
    def ev_base(i: int) -> str:
        return f'"service": {json.dumps(svc[i])}, "ship_date": "{ship_day[i:i + 1].view("datetime64[D]")[0]}"'
    suppress_all = np.zeros(n, dtype=bool)

    def value_reason(i: int) -> str:
        return f"value due {fmt(int(value_due[i]))}" + liab_why(i) + (
            f" + billed charges {fmt(int(bsum[i]))}" if refund and bsum[i] else "")

    def service(kind: str, mask: np.ndarray, amount: np.ndarray, deadline: np.ndarray, reasons: list[str],
                excluded: list[str | None] | None = None, evidence: list[str] | None = None) -> np.ndarray:
        idx = np.flatnonzero(mask)
        ok = as_of_day <= deadline[idx]
        claimable = ok if excluded is None else ok & np.array([x is None for x in excluded], dtype=bool)
        rs = []
        for j, (r, okk, day) in enumerate(zip(reasons, ok.tolist(), _dates(deadline[idx]), strict=True)):
            x = excluded[j] if excluded is not None else None
            if x:
                r += f"; not claimable: {x}"
            elif not okk:
                r += f"; window closed on {day}"
            rs.append(r)
        ev = evidence if evidence is not None else ["{" + ev_base(i) + "}" for i in idx.tolist()]
        found.add(kind, tn[idx], None, None, amount[idx], None, deadline[idx], claimable, rs, ev)
        out = np.zeros(n, dtype=bool)
        out[idx[claimable]] = True
        return out

    amount_value = value_due + (bsum if refund else 0)
    # lost
    li = np.flatnonzero(is_lost)
    reasons = [("lost: a lost scan" if lost_ev[i] else
                f"lost: no delivery; last event on {d}, {rules.lost_after_days} days or more before the audit date")
               + f"; {value_reason(i)}" for i, d in zip(li.tolist(), _dates(last_day[li]), strict=True)]
    loss_base = np.where(first_inv_day != NAT, first_inv_day, ship_day) if rules.loss_window_from == "invoice" \
        else ship_day
    cl = service("lost", is_lost, amount_value, loss_base + rules.loss_window_days, reasons)
    if refund:
        suppress_all |= cl
    # damaged
    di = np.flatnonzero(is_dmg)
    base = np.where(delivered, deliv_day, dmg_day)
    if rules.damage_window_from == "ship":
        base = ship_day
    elif rules.damage_window_from == "invoice":
        base = np.where(first_inv_day != NAT, first_inv_day, base)
    reasons = [f"damaged ({e_status[dmg_row[i]]} event on {d}); {value_reason(i)}"
               for i, d in zip(di.tolist(), _dates(dmg_day[di]), strict=True)]
    cl = service("damaged", is_dmg, amount_value, base + rules.damage_window_days, reasons)
    if refund:
        suppress_all |= cl
    # void label
    vi = np.flatnonzero(is_void)
    reasons = [f"billed {fmt(int(bsum[i]))} but no carrier scan since the ship date {d} "
               f"(void after {rules.void_after_days} days)" for i, d in zip(vi.tolist(), _dates(ship_day[vi]), strict=True)]
    suppress_all |= service("void_label", is_void, bsum, first_inv_day + rules.dispute_window_days, reasons)
    # late delivery
    ti = np.flatnonzero(is_late)
    refundable = np.isin(b_type, list(rules.late_refund_charges))
    r_rows = np.flatnonzero(refundable & is_late[b_sid]) if len(b_sid) else np.zeros(0, dtype=np.int64)
    late_amt = _sum_per(b_sid[r_rows], b_amt[r_rows], n)
    r_sid = b_sid[r_rows]
    r_ids = b_id[r_rows]
    lines_of: dict[int, list[int]] = {}
    if len(r_rows):
        o = np.argsort(r_sid, kind="stable")
        for s_, i_ in zip(r_sid[o].tolist(), r_ids[o].tolist(), strict=True):
            lines_of.setdefault(s_, []).append(i_)
    susp = _suspensions(c, svc[ti], ship_day[ti])
    excluded: list[str | None] = []
    xr = excl_row[ti]
    xm = xr >= 0
    x_at = iter(_fmt_instants(e_occ[xr[xm]], e_off[xr[xm]], e_has_off[xr[xm]], tz[ti[xm]]))
    for j, i in enumerate(ti.tolist()):
        if excl_row[i] >= 0:
            excluded.append(f"excluded: {e_reason[excl_row[i]]} exception at {next(x_at)}")
        elif susp[j] is not None:
            sp = susp[j]
            assert sp is not None
            excluded.append(f"guarantee suspended {sp.start}..{sp.end} for {svc[i]}")
        else:
            excluded.append(None)
    evidence = ["{" + f'"lines": {json.dumps(lines_of.get(i, []))}, ' + ev_base(i) + "}" for i in ti.tolist()]
    late_cl = service("late_delivery", is_late, late_amt, late["file_by"], [late["reason"][i] for i in ti.tolist()],
                      excluded, evidence)
    if tr is not None:
        excl_of = dict(zip(ti.tolist(), excluded, strict=True))
        shown_d = _fmt_instants(deliv_ns[delivered], e_off[deliv_row[delivered]], e_has_off[deliv_row[delivered]],
                                tz[delivered]) if delivered.any() else []
        d_text = dict(zip(np.flatnonzero(delivered).tolist(), shown_d, strict=True))
        for i in range(n):
            kind = ("lost" if is_lost[i] else "damaged" if is_dmg[i] else "void_label" if is_void[i]
                    else "late_delivery" if is_late[i] else None)
            tr.ships[(c.carrier, str(tn[i]))] = {
                "contract": c.path.name, "service": svc[i], "tz": tz[i], "delivered_at": d_text.get(i),
                "final": bool(final[i]), "carrier_scan": bool(carrier_scan[i]), "lost_event": bool(lost_ev[i]),
                "last_event_day": _day(last_day[i]), "damage_event": None if dmg_row[i] < 0 else {
                    "status": e_status[dmg_row[i]], "day": _day(dmg_day[i])},
                "billed": bool(is_billed[i]), "first_invoice_day": _day(first_inv_day[i]),
                "billed_cents": int(bsum[i]), "value_due_cents": int(value_due[i]),
                "ship_day": _day(ship_day[i]), "lost": bool(is_lost[i]), "damaged": bool(is_dmg[i]),
                "void": bool(is_void[i]), "late": bool(late["late"][i]), "late_reported": bool(is_late[i]),
                "promised": late["promised"].get(i), "late_not_judged": late["why_not"].get(i),
                "late_file_by": _day(late["file_by"][i]), "late_excluded": excl_of.get(i),
                "service_kind": kind, "suppress_all": bool(suppress_all[i]), "late_claimable": bool(late_cl[i]),
                "recheck": _day(onset[i]),
            }

    if facts_out is not None:      # what the rules of recoup.audit.rules read, computed once here
        facts_out.update(ships=sh, tn=tn, svc=svc, ship_day=ship_day, tz=tz, delivered=delivered, deliv_day=deliv_day,
                  e_sid=e_sid, e_day=e_day, e_status=e_status, e_reason=e_reason, e_occ=e_occ,
                  suppress_all=suppress_all, late_claimable=late_cl, refundable=refundable, billed=billed,
                  deliv_ns=deliv_ns, deadline_ns=late["deadline_ns"], late_file_by=late["file_by"],
                  service_kind=np.where(is_lost, "lost", np.where(is_dmg, "damaged", np.where(
                      is_void, "void_label", np.where(is_late, "late_delivery", "")))).astype(object))

    # ---- billing findings, one per offending line
    disp = rules.dispute_window_days
    if len(dups):
        d_day = _days(dups["invoice_date"])
        d_amt = dups["amount_cents"].to_numpy(dtype=np.int64)
        d_inv = _txt(dups["invoice_number"])
        reasons = [f"{t} {fmt(a)} billed again on {v}" for t, a, v in zip(
            _txt(dups["charge_type"]), d_amt.tolist(), d_inv, strict=True)]
        ids = dups["id"].to_numpy(dtype=np.int64)
        if tr is not None:
            for i in ids.tolist():
                tr.line(i)["duplicate_charge"] = "yes: the same charge type and amount was billed earlier"
        found.add("duplicate_charge", tn[dups["sid"].to_numpy(dtype=np.int64)], d_inv, ids, d_amt,
                  _str_col(dups["currency"]), d_day + disp, as_of_day <= d_day + disp, reasons,
                  [f'{{"line": {i}}}' for i in ids.tolist()])
    if not len(billed):
        return found.frame(), recheck
    keep = ~suppress_all[b_sid] & ~(late_cl[b_sid] & refundable)
    if tr is not None:
        for i, s_, k_ in zip(b_id.tolist(), b_sid.tolist(), keep.tolist(), strict=True):
            t = tr.line(i)
            t["duplicate_charge"] = "no: the first line with this charge type and amount"
            if not k_:
                t["suppressed"] = ("refunded by the claimable " + (
                    "late_delivery" if late_cl[s_] and not suppress_all[s_] else
                    "lost" if is_lost[s_] else "damaged" if is_dmg[s_] else "void_label")
                    + ": billing rules not reported")
    b = billed[keep].reset_index(drop=True)
    bs = b_sid[keep]
    ba = b_amt[keep]
    bt = b_type[keep]
    bd = b_day[keep]
    bid = b_id[keep]
    binv = _txt(b["invoice_number"])
    bcur = _str_col(b["currency"])
    deadline = bd + disp
    claimable = as_of_day <= deadline

    def billing(kind: str, mask: np.ndarray, amounts: np.ndarray, reasons: list[str],
                evidence: list[str] | None = None) -> None:
        idx = np.flatnonzero(mask)
        found.add(kind, tn[bs[idx]], binv[idx], bid[idx], amounts[idx], bcur[idx], deadline[idx], claimable[idx],
                  reasons, evidence if evidence is not None else [f'{{"line": {i}}}' for i in bid[idx].tolist()])

    res = np.array([v is False for v in sh["dest_residential"].tolist()], dtype=bool)
    m = (bt == "residential") & res[bs]
    if tr is not None:
        flags = sh["dest_residential"].tolist()
        for j in np.flatnonzero(bt == "residential").tolist():
            f = flags[bs[j]]
            tr.line(bid[j])["residential_surcharge"] = (
                "yes: the manifest says the address is commercial" if f is False else
                "no: the manifest says the address is residential" if f is True else
                "not judged: the manifest does not say whether the address is residential")
    billing("residential_surcharge", m, ba,
            ["residential surcharge on an address the manifest says is commercial"] * int(m.sum()))
    val = np.array([v is True for v in sh["address_validated"].tolist()], dtype=bool)
    m = (bt == "address_correction") & val[bs]
    if tr is not None:
        flags = sh["address_validated"].tolist()
        for j in np.flatnonzero(bt == "address_correction").tolist():
            f = flags[bs[j]]
            tr.line(bid[j])["address_correction"] = (
                "yes: the address was validated before shipping" if f is True else
                "no: the address was not validated before shipping" if f is False else
                "not judged: the manifest does not say whether the address was validated")
    billing("address_correction", m, ba, ["address correction on an address validated before shipping"] * int(m.sum()))
    if c.das_postal_codes is not None:
        postal = _str_col(sh["dest_postal"])
        in_das = _das_flags(postal, _str_col(sh["dest_country"]), c.das_postal_codes)
        m = (bt == "delivery_area") & ~in_das[bs]
        if tr is not None:
            for j in np.flatnonzero(bt == "delivery_area").tolist():
                p_ = postal[bs[j]]
                tr.line(bid[j])["delivery_area_surcharge"] = (
                    f"yes: {p_} is not in the contract's DAS list" if m[j] else
                    "not judged: no destination postal code" if not p_ else
                    f"no: {p_} is in the contract's DAS list")
        billing("delivery_area_surcharge", m, ba,
                [f"delivery area surcharge; {postal[s_]} is not in the contract's DAS list" for s_ in bs[m].tolist()])
    elif tr is not None:
        for j in np.flatnonzero(bt == "delivery_area").tolist():
            tr.line(bid[j])["delivery_area_surcharge"] = "not judged: the contract has no DAS list"
    # fuel: the base is every billed transportation line of the invoice (duplicates out), refunded or not
    fm = bt == "fuel"
    if fm.any():
        fuel_amt, fuel_why, fuel_mask = _fuel(c, billed, b_sid, b_type, b_amt, bs, binv, ba, fm, svc, ship_day,
                                              warnings, tr, bid)
        billing("fuel_surcharge", fuel_mask, fuel_amt, fuel_why)
    # dim weight and rate overcharge
    tm = bt == "transportation"
    if tm.any():
        _weights(c, sh, b, bs, ba, tm, svc, warnings, billing, tr)
    return found.frame(), recheck


def _relaxed(c: Contract, code: str, ship_day: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Business days each parcel's guarantee is extended by (``[[gsr_relaxations]]``), and the words
    a finding's reason gains for it (by position)."""
    extra = np.zeros(len(ship_day), dtype=np.int64)
    why: dict[int, str] = {}
    if not c.relaxations:
        return extra, why
    days, inv = np.unique(ship_day, return_inverse=True)
    rows = [c.relaxed(code, d) for d in _dates(days)]
    for j, u in enumerate(np.asarray(inv).ravel().tolist()):
        x = rows[u]
        if x is not None:
            extra[j] = x.extra_days
            why[j] = f" (guarantee relaxed by {x.extra_days} business day{'s' if x.extra_days > 1 else ''} " \
                     f"for ship dates {x.start}..{x.end})"
    return extra, why


def _liability(c: Contract, sh: pd.DataFrame) -> tuple[np.ndarray | int, Callable[[int], str]]:
    """The carrier's liability without a declared value, per parcel: ``claims.default_liability``; with
    ``claims.liability_per_kg`` the lower of that cap and the per-kg limit × the manifest's actual weight
    in kg (half-up to the cent; lb converted at 0.45359237). No weight: the cap alone."""
    cap = c.claims.default_liability_cents
    per_kg = c.claims.liability_per_kg
    if per_kg is None:
        return cap, lambda i: ""
    codes, pairs = factorize_pairs(sh["weight"], sh["weight_unit"])
    lim = np.full(len(pairs), cap, dtype=np.int64)
    text: list[str] = [""] * len(pairs)
    for k, (w, u) in enumerate(pairs):
        try:
            kg = Decimal(str(w)) * (LB_IN_KG if str(u or c.weight_unit).lower() == "lb" else 1)
        except (InvalidOperation, ValueError):      # no weight, or not a number
            kg = None
        if kg is None or not kg.is_finite() or kg <= 0:
            text[k] = f" (no weight: the per-parcel cap {fmt(cap)}, not the {per_kg}/kg limit)"
            continue
        by_kg = int((per_kg * kg * 100).to_integral_value(rounding="ROUND_HALF_UP"))
        lim[k] = min(cap, by_kg)
        kg_txt = format(kg.normalize(), "f")
        text[k] = (f" (liability {per_kg}/kg × {kg_txt} kg = {fmt(by_kg)}" +
                   (f", capped at {fmt(cap)})" if by_kg > cap else ")"))
    per_row = lim[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    return per_row, lambda i: text[codes[i]]


def _suspensions(c: Contract, svc: np.ndarray, ship_day: np.ndarray) -> list[Suspension | None]:
    if not c.suspensions:
        return [None] * len(svc)
    cache: dict[tuple[str, dt.date], Suspension | None] = {}
    out = []
    for k in zip(svc.tolist(), _dates(ship_day), strict=True):
        if k not in cache:
            cache[k] = c.suspended(*k)
        out.append(cache[k])
    return out


def _das_flags(postal: np.ndarray, country: np.ndarray, das: frozenset[str]) -> np.ndarray:
    codes, uniq = factorize_pairs(postal, country)
    flags = np.array([_in_das(p, ctry, das) for p, ctry in uniq], dtype=bool)
    return flags[codes] if len(codes) else np.zeros(0, dtype=bool)


def _fuel(c: Contract, billed: pd.DataFrame, b_sid: np.ndarray, b_type: np.ndarray, b_amt: np.ndarray,
          bs: np.ndarray, binv: np.ndarray, ba: np.ndarray, fm: np.ndarray, svc: np.ndarray, ship_day: np.ndarray,
          warnings: Counter[str], tr: _Trace | None = None,
          bid: np.ndarray | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    n_rows = len(bs)
    # transportation per (shipment, invoice)
    tmask = b_type == "transportation"
    all_inv = _txt(billed["invoice_number"])
    fi = np.flatnonzero(fm)
    inv_codes, inv_u = pd.factorize(np.concatenate([all_inv[tmask], binv[fi]]))
    k_inv = max(len(inv_u), 1)
    t_key = b_sid[tmask] * k_inv + inv_codes[:int(tmask.sum())]
    f_key = bs[fi] * k_inv + inv_codes[int(tmask.sum()):]
    base_of = pd.Series(b_amt[tmask]).groupby(t_key).sum()
    base = np.zeros(n_rows, dtype=np.int64)
    if len(base_of):
        pos_ = pd.Index(base_of.index).get_indexer(f_key)
        vals = base_of.to_numpy(dtype=np.int64)
        base[fi] = np.where(pos_ >= 0, vals[np.maximum(pos_, 0)], 0)
    # the fuel percent of each (service, ship date)
    pairs_codes, pairs = factorize_pairs(svc[bs[fi]], ship_day[bs[fi]])
    pcts = [fuel_percent(c, s_, _dates(np.array([d]))[0]) for s_, d in pairs]
    num = np.zeros(len(pairs), dtype=np.int64)     # percent = num / 10**scale
    scale = np.zeros(len(pairs), dtype=np.int64)
    has = np.zeros(len(pairs), dtype=bool)
    for k, p in enumerate(pcts):
        if p is None:
            continue
        has[k] = True
        t = p.normalize().as_tuple()
        e = -int(t.exponent) if int(t.exponent) < 0 else 0
        num[k] = int(p.scaleb(e))
        scale[k] = e
    fuel_amt = np.zeros(n_rows, dtype=np.int64)
    why: list[str] = []
    mask = np.zeros(n_rows, dtype=bool)
    ok = has[pairs_codes]
    for s_, cnt in pd.Series(svc[bs[fi]][~ok]).value_counts(sort=False).items():
        warnings[f"{c.carrier}: no fuel table row for service {s_} on its ship date: fuel not judged"] += int(cnt)
    j = fi[ok]
    pc = pairs_codes[ok]
    denom = 100 * 10 ** scale[pc]
    # half-up: floor(base * pct / 100 + 1/2), all integers
    expected = (2 * base[j] * num[pc] + denom) // (2 * denom)
    diff = ba[j] - expected
    hit = diff >= 1
    jj = j[hit]
    fuel_amt[jj] = diff[hit]
    mask[jj] = True
    for k_, e_, jx in zip(pc[hit].tolist(), expected[hit].tolist(), jj.tolist(), strict=True):
        why.append(f"fuel {fmt(int(ba[jx]))} > {pcts[k_]}% of transportation {fmt(int(base[jx]))} = {fmt(int(e_))}")
    if tr is not None and bid is not None:
        for jx in fi[~ok].tolist():
            tr.line(bid[jx])["fuel_surcharge"] = f"not judged: no fuel table row for service {svc[bs[jx]]} on its ship date"
        for k_, e_, jx, h_ in zip(pc.tolist(), expected.tolist(), j.tolist(), hit.tolist(), strict=True):
            rel = ">" if h_ else "<="
            tr.line(bid[jx])["fuel_surcharge"] = ("yes: " if h_ else "no: ") + (
                f"fuel {fmt(int(ba[jx]))} {rel} {pcts[k_]}% of transportation {fmt(int(base[jx]))} "
                f"on the same invoice = {fmt(int(e_))}")
    return fuel_amt, why, mask


def _weights(c: Contract, sh: pd.DataFrame, b: pd.DataFrame, bs: np.ndarray, ba: np.ndarray, tm: np.ndarray,
             svc: np.ndarray, warnings: Counter[str], billing: Callable[..., None], tr: _Trace | None = None) -> None:
    """dim_weight / rate_overcharge of the transportation lines whose service has a rate card."""
    rated = {code: s.rates for code, s in c.services.items() if s.rates is not None}
    ti = np.flatnonzero(tm & np.isin(svc[bs], list(rated)))
    b_ids = b["id"].to_numpy(dtype=np.int64)
    if tr is not None:
        for j in np.flatnonzero(tm & ~np.isin(svc[bs], list(rated))).tolist():
            tr.line(int(b_ids[j]))["rate"] = f"not judged: no rate card for service {svc[bs[j]]}"
    if not len(ti):
        return
    si = bs[ti]
    part = sh.iloc[si]
    k, ok = billable_increments(
        weight=part["weight"], weight_unit=part["weight_unit"], length=part["length"], width=part["width"],
        height=part["height"], dim_unit=part["dim_unit"],
        contract_weight_unit=c.weight_unit, contract_dim_unit=c.dim_unit, dim_divisor=c.dim_divisor,
        weight_increment=c.weight_increment, dim_rounding=c.dim_rounding)
    cmp = compare_billed(b["billed_weight"].iloc[ti], b["weight_unit"].iloc[ti], k,
                         contract_weight_unit=c.weight_unit, weight_increment=c.weight_increment)
    judged = ok & (cmp >= 0)             # billed below the correct weight: not judged
    zones = _str_col(b["zone"])[ti]
    price = np.full(len(ti), -1, dtype=np.int64)
    inc = Fraction(str(c.weight_increment))
    groups = pd.DataFrame({"svc": svc[si], "zone": np.where(zones == None, "\x00", zones)})  # noqa: E711
    for key, grp in groups[judged].groupby(["svc", "zone"], sort=True).groups.items():
        pair: tuple[Any, Any] = tuple(key)  # type: ignore[arg-type,assignment]
        svc_code, zone_v = pair
        card = rated[str(svc_code)]
        rows_j: np.ndarray = np.asarray(grp)
        z = None if zone_v == "\x00" else str(zone_v)
        col = card.zone_column(z)
        kk = k[rows_j]
        if col is None:
            warnings[_unpriced(c, card, z, Decimal(0))] += len(rows_j)
            continue
        bounds = np.array([math.floor(Fraction(str(w)) / inc) for w in card.weights], dtype=np.int64)
        band = np.searchsorted(bounds, kk, side="left")
        cells = np.array([-1 if v is None else v for v in col] + [-1], dtype=np.int64)
        p = cells[np.minimum(band, len(bounds))]
        for kb in np.unique(kk[p < 0]).tolist():
            warnings[_unpriced(c, card, z, Decimal(kb) * c.weight_increment)] += int((kk[p < 0] == kb).sum())
        price[rows_j] = p
    diff = ba[ti] - price
    hit = judged & (price >= 0) & (diff >= 1)
    if tr is not None:
        for x in range(len(ti)):
            line_id = int(b_ids[ti[x]])
            cw = weight_text(int(k[x]), c.weight_increment) if ok[x] else None
            t = tr.line(line_id)
            t["correct_weight"] = cw
            if not ok[x]:
                t["rate"] = "not judged: the manifest has neither a weight nor all three dimensions"
            elif cmp[x] < 0:
                t["rate"] = f"not judged: billed below the correct billable weight {cw} {c.weight_unit}"
            elif price[x] < 0:
                t["rate"] = "not judged: " + _unpriced(c, rated[svc[si[x]]], zones[x], Decimal(int(k[x])) * c.weight_increment)
            elif hit[x]:
                t["rate"] = (f"yes ({'dim_weight' if cmp[x] > 0 else 'rate_overcharge'}): {fmt(int(ba[ti[x]]))} vs "
                             f"rate card {fmt(int(price[x]))} at {cw} {c.weight_unit} (zone {zones[x]})")
            else:
                t["rate"] = (f"no: {fmt(int(ba[ti[x]]))} is not above the rate card's {fmt(int(price[x]))} at {cw} "
                             f"{c.weight_unit} (zone {zones[x]})")
    h = np.flatnonzero(hit)
    for kind, sel in (("dim_weight", cmp[h] > 0), ("rate_overcharge", cmp[h] == 0)):
        hh = h[sel]
        mask = np.zeros(len(bs), dtype=bool)
        mask[ti[hh]] = True
        amounts = np.zeros(len(bs), dtype=np.int64)
        amounts[ti[hh]] = diff[hh]
        order = np.argsort(ti[hh], kind="stable")
        hh = hh[order]
        billed_w = _str_col(b["billed_weight"])[ti[hh]]
        billed_u = _str_col(b["weight_unit"])[ti[hh]]
        reasons, evidence = [], []
        for x, bw, bu in zip(hh.tolist(), billed_w, billed_u, strict=True):
            cw = weight_text(int(k[x]), c.weight_increment)
            got = billed_weight_in(bw, bu, c.weight_unit, c.weight_increment)
            shown = cw if got is None else format(as_decimal(got).normalize(), "f")
            reasons.append(f"billed {shown} {c.weight_unit}, correct billable weight {cw}: "
                           f"{fmt(int(ba[ti[x]]))} vs rate card {fmt(int(price[x]))} (zone {zones[x]})")
            evidence.append(json.dumps({"correct_weight": cw, "line": int(b_ids[ti[x]]),
                                        "rate": fmt(int(price[x]))}, sort_keys=True))
        billing(kind, mask, amounts, reasons, evidence)


def fuel_percent(c: Contract, service: str, ship_date: dt.date) -> Decimal | None:
    """The fuel row for a service on a ship date: the latest ``effective`` on or before it; on the same
    date a row naming the service wins over a row for all services, then the later row of the file."""
    best: tuple[dt.date, bool, int] | None = None
    pct = None
    for i, row in enumerate(c.fuel):
        if (row.services and service not in row.services) or row.effective > ship_date:
            continue
        rank = (row.effective, bool(row.services), i)
        if best is None or rank > best:
            best, pct = rank, row.percent
    return pct


def _unpriced(c: Contract, card: RateCard, zone: str | None, weight: Decimal) -> str:
    """The cause a rate card cannot price a line: one warning per cause (contracts.md)."""
    where = f"{c.carrier}: rate card {card.path.name}"
    if card.zone_column(zone) is None:
        return f"{where}: no column for zone {zone}: not judged"
    if not card.weights or weight > card.weights[-1]:
        last = card.weights[-1] if card.weights else 0
        return f"{where}: weights above {last} {c.weight_unit} are beyond the last row: not judged"
    return f"{where}: no price in zone {zone} at {weight} {c.weight_unit}: not judged"


_ZIP = re.compile(r"\d{5}(-?\d{4})?")


@lru_cache(maxsize=32)
def _das_us(das: frozenset[str]) -> frozenset[str]:
    """The list's entries as US codes compare: ZIP+4 entries on their first five digits."""
    return frozenset(e[:5] if _ZIP.fullmatch(e) else e for e in das)


def _in_das(postal: object, country: object, das: frozenset[str]) -> bool:
    if not isinstance(postal, str) or not postal:
        return True  # nothing to judge against
    ctry = str(country or "").upper()
    p = normalise_postal(postal, ctry)
    if p in das:
        return True
    if ctry == "US":
        return p in _das_us(das)
    if ctry in ("GB", "UK") and len(p) > 3:
        outward = p[:-3]
        if outward in das:
            return True
        area = ""
        for ch in outward:
            if ch.isalpha():
                area += ch
            else:
                break
        if area and area in das:
            return True
    return False


def _late(c: Contract, sh: pd.DataFrame, svc: np.ndarray, tz: np.ndarray, delivered: np.ndarray,
          deliv_ns: np.ndarray, deliv_day: np.ndarray, deliv_row: np.ndarray, e_off: np.ndarray,
          e_has_off: np.ndarray, first_inv_day: np.ndarray, warnings: Counter[str], trace: bool = False) -> dict[str, Any]:
    n = len(sh)
    late = np.zeros(n, dtype=bool)
    file_by = np.full(n, NAT, dtype=np.int64)
    deadline_all = np.full(n, NAT, dtype=np.int64)     # the deadline instant of each judged parcel (facts)
    reason: dict[int, str] = {}
    promised: dict[int, str] = {}
    why_not: dict[int, str] = {}
    rules = c.claims
    promised_txt = _str_col(sh["promised_delivery"])
    ship_day = _days(sh["ship_date"])
    for code in sorted(set(svc.tolist())):
        s = c.services.get(code)
        m = svc == code
        if s is None:
            warnings[f"{c.carrier}: service {code} is not in the contract {c.path.name}: not judged for lateness"] += \
                int(m.sum())
            if trace:
                why_not.update(dict.fromkeys(np.flatnonzero(m).tolist(), f"service {code} is not in the contract"))
            continue
        if not s.guaranteed:
            if trace:
                why_not.update(dict.fromkeys(np.flatnonzero(m).tolist(), f"service {code} is not guaranteed"))
            continue
        if trace:
            why_not.update(dict.fromkeys(np.flatnonzero(m & ~delivered).tolist(), "not delivered (yet)"))
        idx = np.flatnonzero(m & delivered)
        if not len(idx):
            continue
        txt = promised_txt[idx]
        given = np.array([isinstance(t, str) and t != "" for t in txt], dtype=bool)
        deadline_ns = np.full(len(idx), NAT, dtype=np.int64)
        promised_day = np.full(len(idx), NAT, dtype=np.int64)
        deadline_txt: list[str] = [""] * len(idx)
        extra, relaxed_by = _relaxed(c, code, ship_day[idx])
        if given.any():
            g = np.flatnonzero(given)
            t = pd.Series(txt[g].astype(str))
            deadline_ns[g] = pd.to_datetime(t, utc=True, format="ISO8601").to_numpy(dtype="datetime64[ns]").view("int64")
            promised_day[g] = pd.to_datetime(t.str[:10]).to_numpy(dtype="datetime64[D]").view("int64")
            for j, x in zip(g.tolist(), t.tolist(), strict=True):
                deadline_txt[j] = x[:16] + ("Z" if x.endswith("Z") else x[-6:])
            gx = g[extra[g] > 0]
            if len(gx):     # the manifest's promise, relaxed: N business days later, at the same UTC offset
                later = np.busday_offset(promised_day[gx].view("datetime64[D]"), extra[gx], roll="forward",
                                         busdaycal=busdaycal(c.calendar)).astype("int64")
                deadline_ns[gx] += (later - promised_day[gx]) * DAY_NS
                promised_day[gx] = later
                for j in gx.tolist():
                    deadline_txt[j] = str(np.datetime64(int(promised_day[j]), "D")) + deadline_txt[j][10:]
        comp = np.flatnonzero(~given)
        if len(comp):
            if s.transit_days is None:
                warnings[f"{c.carrier}: service {code} has no transit_days and no promised_delivery: not judged"] += \
                    len(comp)
                if trace:
                    why_not.update(dict.fromkeys(idx[comp].tolist(), f"service {code} has no transit_days and the "
                                                 "manifest no promised_delivery"))
            else:
                ship = ship_day[idx[comp]].view("datetime64[D]")
                pdays = promised_date(c.calendar, ship, s.transit_days + extra[comp]).astype("int64")
                promised_day[comp] = pdays
                ct = s.commit_time or dt.time(23, 59)
                local = pdays * DAY_NS + (ct.hour * 60 + ct.minute) * MIN_NS
                zones = pd.Series(tz[idx[comp]])
                for z, grp in zones.groupby(zones, sort=True).groups.items():
                    jj = comp[np.asarray(grp)]
                    loc = pd.DatetimeIndex(pd.to_datetime(local[np.asarray(grp)])).tz_localize(
                        str(z), ambiguous=np.ones(len(jj), dtype=bool), nonexistent="shift_forward")
                    deadline_ns[jj] = loc.tz_convert("UTC").tz_localize(None).to_numpy(
                        dtype="datetime64[ns]").view("int64")
        dns = deliv_ns[idx]
        deadline_all[idx] = deadline_ns
        is_late = (deadline_ns != NAT) & (dns > deadline_ns)
        if trace:
            has = np.flatnonzero(deadline_ns != NAT)
            shown_p = _fmt_instants(deadline_ns[has], np.zeros(len(has), dtype=np.int64), np.zeros(len(has), dtype=bool),
                                    tz[idx[has]])
            for j, p_ in zip(has.tolist(), shown_p, strict=True):
                promised[int(idx[j])] = deadline_txt[j] or p_
        li = np.flatnonzero(is_late)
        if not len(li):
            continue
        rows = idx[li]
        late[rows] = True
        anchor = rules.late_window_from
        if anchor == "delivered":
            base = deliv_day[rows]
        elif anchor == "invoice":
            base = np.where(first_inv_day[rows] != NAT, first_inv_day[rows], promised_day[li])
        elif anchor == "ship":
            base = ship_day[rows]
        else:
            base = promised_day[li]
        file_by[rows] = base + rules.late_window_days
        dr = deliv_row[rows]
        shown = _fmt_instants(dns[li], e_off[dr], e_has_off[dr], tz[rows])
        by = _fmt_instants(deadline_ns[li], np.zeros(len(li), dtype=np.int64), np.zeros(len(li), dtype=bool),
                           tz[rows])
        for r, a, j, p in zip(rows.tolist(), shown, li.tolist(), by, strict=True):
            reason[r] = f"delivered {a}, promised by {deadline_txt[j] or p}" + relaxed_by.get(j, "")
    return {"late": late, "file_by": file_by, "reason": reason, "promised": promised, "why_not": why_not,
            "deadline_ns": deadline_all}
