"""The facts of one contract's parcels and lines, computed once (vectorised) and read by every rule.

Per shipment: its events (ordered by instant, ties in read order) and their local days, the first
delivery, final / carrier / lost / damage events, what was billed (positive lines by invoice date,
invoice number as text, line order; a line repeating the charge type and amount of an earlier one is a
duplicate), the value due (lost, damaged), its lateness (``_late``) and which service finding applies
(the first of lost, damaged, void_label, late_delivery: audits.md's precedence), and from which audit
date time alone changes that (``onset``: ``AuditResult.recheck``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from recoup.audit.rules._late import lateness
from recoup.audit.rules._liability import liability
from recoup.audit.rules._vector import (
    NAT,
    _any_per,
    _days,
    _first_per,
    _last_per,
    _local_days,
    _str_col,
    _sum_per,
    _take,
    _txt,
)
from recoup.audit.rules.base import EMPTY_I, Facts, LineSet
from recoup.audit.rules.frames import FINAL_STATUSES
from recoup.sla.contracts import Contract

Z_O = np.zeros(0, dtype=object)


def build(c: Contract, sh: pd.DataFrame, sc: pd.DataFrame, ln: pd.DataFrame, orphans: pd.DataFrame | None,
          account: pd.DataFrame | None, as_of_day: int, trace: bool) -> Facts:
    """The facts of contract ``c``: its shipments ``sh`` (may be empty), their scans ``sc`` and invoice
    lines ``ln`` (each with ``sid``, the row of its shipment), the positive lines of no manifested parcel
    (``orphans``) and the account-level lines (``account``)."""
    o = orphans if orphans is not None else pd.DataFrame()
    a = account if account is not None else pd.DataFrame()
    orphan_set = LineSet.of(o, np.full(len(o), -1, dtype=np.int64), _txt(o["tracking_number"]) if len(o) else Z_O)
    account_set = LineSet.of(a, np.full(len(a), -1, dtype=np.int64), np.full(len(a), "", dtype=object))
    if not len(sh):
        return Facts(contract=c, as_of_day=as_of_day, ships=pd.DataFrame(), tn=Z_O, svc=Z_O, ship_day=EMPTY_I,
                     delivered=np.zeros(0, dtype=bool), deliv_day=EMPTY_I, service_kind=Z_O, e_sid=EMPTY_I,
                     e_status=Z_O, e_reason=Z_O, e_day=EMPTY_I, lines=LineSet.of(pd.DataFrame(), EMPTY_I, Z_O),
                     orphans=orphan_set, account=account_set, trace=trace)
    rules = c.claims
    warnings: Counter[str] = Counter()
    n = len(sh)
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
    d_rows = np.flatnonzero(e_status == "delivered")
    deliv_row = _take(d_rows, _first_per(e_sid[d_rows], n), -1)
    delivered = deliv_row >= 0
    deliv_ns = _take(e_occ, deliv_row, NAT)
    deliv_day = _take(e_day, deliv_row, NAT)
    is_final = np.isin(e_status, FINAL_STATUSES)
    f_rows = np.flatnonzero(is_final)
    final_row = _take(f_rows, _first_per(e_sid[f_rows], n), -1)
    final = _any_per(e_sid, is_final, n)
    carrier_scan = _any_per(e_sid, e_status != "label_created", n)
    lost_ev = _any_per(e_sid, e_status == "lost", n)
    dmg_rows = np.flatnonzero((e_status == "damaged") | (e_reason == "damage"))
    dmg_row = _take(dmg_rows, _first_per(e_sid[dmg_rows], n), -1)
    damaged = dmg_row >= 0
    last_day = _take(e_day, _last_per(e_sid, n), NAT)
    # an excluded exception strictly before the delivery
    excl_row = np.full(n, -1, dtype=np.int64)
    if len(e_sid) and rules.excluded_exception_reasons:
        m = np.isin(e_reason, list(rules.excluded_exception_reasons)) & delivered[e_sid]
        m &= e_occ < deliv_ns[e_sid]
        x_rows = np.flatnonzero(m)
        excl_row = _take(x_rows, _first_per(e_sid[x_rows], n), -1)

    # ---- billed charges (positive lines by invoice date, number as text, line order) and duplicates
    pos = ln[ln["amount_cents"].to_numpy(dtype=np.int64) > 0] if len(ln) else ln
    if len(pos):
        inv_code = pd.factorize(_txt(pos["invoice_number"]), sort=True)[0]
        order = np.lexsort((pos["line_no"].to_numpy(dtype=np.int64), inv_code, _days(pos["invoice_date"]),
                            pos["sid"].to_numpy(dtype=np.int64)))
        pos = pos.iloc[order].reset_index(drop=True)
        dup = pos.duplicated(["sid", "charge_type", "amount_cents"], keep="first").to_numpy()
    else:
        dup = np.zeros(0, dtype=bool)
    dups = pos[dup].reset_index(drop=True)
    billed = pos[~dup].reset_index(drop=True)
    b_sid = billed["sid"].to_numpy(dtype=np.int64) if len(billed) else EMPTY_I
    lines = LineSet.of(billed, b_sid, tn[b_sid])
    d_sid = dups["sid"].to_numpy(dtype=np.int64) if len(dups) else EMPTY_I
    dup_set = LineSet.of(dups, d_sid, tn[d_sid])
    bsum = _sum_per(b_sid, lines.amount, n)
    first_b = _first_per(b_sid, n)
    is_billed = first_b >= 0
    first_inv_day = _take(lines.day, first_b, NAT)

    # ---- value due
    liab, liab_why = liability(c, sh)
    item = pd.to_numeric(sh["item_value_cents"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    decl = pd.to_numeric(sh["declared_value_cents"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    value_due = np.minimum(item, np.maximum(decl, liab))

    # ---- which service finding applies: the first of lost, damaged, void_label, late_delivery
    as_of = as_of_day
    has_last = last_day != NAT
    is_lost = ~final & carrier_scan & (lost_ev | (has_last & (as_of - last_day >= rules.lost_after_days)))
    is_dmg = damaged & ~is_lost
    is_void = is_billed & ~carrier_scan & (as_of - ship_day >= rules.void_after_days) & ~is_lost & ~is_dmg
    # the audit date from which time alone changes a shipment's findings
    onset = np.full(n, NAT, dtype=np.int64)
    m = ~final & carrier_scan & ~is_lost & has_last
    onset[m] = last_day[m] + rules.lost_after_days
    m = is_billed & ~carrier_scan & ~is_void
    onset[m] = ship_day[m] + rules.void_after_days
    late = lateness(c, sh, svc, tz, delivered, deliv_ns, deliv_day, deliv_row, e_off, e_has_off, first_inv_day,
                    warnings, trace)
    is_late = late.late & ~is_lost & ~is_dmg & ~is_void
    kind = np.where(is_lost, "lost", np.where(is_dmg, "damaged", np.where(
        is_void, "void_label", np.where(is_late, "late_delivery", "")))).astype(object)
    return Facts(
        contract=c, as_of_day=as_of_day, ships=sh, tn=tn, svc=svc, ship_day=ship_day, delivered=delivered,
        deliv_day=deliv_day, service_kind=kind, e_sid=e_sid, e_status=e_status, e_reason=e_reason, e_day=e_day,
        lines=lines, orphans=orphan_set, account=account_set, dups=dup_set, trace=trace, e_occ=e_occ, e_off=e_off,
        e_has_off=e_has_off, deliv_ns=deliv_ns, deliv_row=deliv_row, deadline_ns=late.deadline_ns,
        late_file_by=late.file_by, tz=tz, final=final, carrier_scan=carrier_scan,
        has_events=_any_per(e_sid, np.ones(len(e_sid), dtype=bool), n), lost_event=lost_ev, last_day=last_day,
        dmg_row=dmg_row, dmg_day=_take(e_day, dmg_row, NAT), final_row=final_row, excl_row=excl_row,
        billed=is_billed, first_inv_day=first_inv_day, billed_cents=bsum, value_due=value_due,
        liability_why=liab_why, onset=onset, late=late, warnings=warnings)
