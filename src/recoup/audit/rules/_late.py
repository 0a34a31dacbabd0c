"""Lateness, a fact of each parcel read by late_delivery, late_delivery_first_attempt and the service
precedence: the promised deadline of a guaranteed service (the manifest's promise or ship date +
transit days on the contract's calendar, relaxed by ``[[gsr_relaxations]]``), whether the first
delivery came after it, and the filing deadline (``claims.late_window_*``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recoup.audit.rules._vector import DAY_NS, MIN_NS, NAT, _dates, _days, _fmt_instants, _str_col
from recoup.sla.calendar import busdaycal, promised_date
from recoup.sla.contracts import Contract, Suspension


@dataclass
class Lateness:
    """Per parcel (shipment row): ``late`` (delivered after the deadline, before any precedence),
    ``deadline_ns`` (the deadline instant, NAT where not judged), ``file_by`` (the filing deadline of a
    late parcel, days), ``reason`` (a late parcel's reason); with ``trace``, ``promised`` (the deadline
    for people) and ``why_not`` (why a parcel is not judged)."""

    late: np.ndarray
    deadline_ns: np.ndarray
    file_by: np.ndarray
    reason: dict[int, str] = field(default_factory=dict)
    promised: dict[int, str] = field(default_factory=dict)
    why_not: dict[int, str] = field(default_factory=dict)


def lateness(c: Contract, sh: pd.DataFrame, svc: np.ndarray, tz: np.ndarray, delivered: np.ndarray,
             deliv_ns: np.ndarray, deliv_day: np.ndarray, deliv_row: np.ndarray, e_off: np.ndarray,
             e_has_off: np.ndarray, first_inv_day: np.ndarray, warnings: Counter[str], trace: bool = False) -> Lateness:
    """The lateness of the parcels ``sh`` (their services ``svc``, time zones ``tz``, first deliveries);
    warnings once per cause (a service not in the contract, a guaranteed one without transit days)."""
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
    return Lateness(late, deadline_all, file_by, reason, promised, why_not)


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




def suspensions(c: Contract, svc: np.ndarray, ship_day: np.ndarray) -> list[Suspension | None]:
    if not c.suspensions:
        return [None] * len(svc)
    cache: dict[tuple[str, dt.date], Suspension | None] = {}
    out = []
    for k in zip(svc.tolist(), _dates(ship_day), strict=True):
        if k not in cache:
            cache[k] = c.suspended(*k)
        out.append(cache[k])
    return out


