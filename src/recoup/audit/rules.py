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
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pandas as pd

from recoup.audit.weights import as_decimal, billed_weight_in, correct_billable_weight
from recoup.money import fmt
from recoup.sla.calendar import promised_date
from recoup.sla.contracts import Contract, ContractSet, RateCard, normalise_postal

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


@dataclass
class AuditResult:
    findings: pd.DataFrame
    warnings: Counter[str] = field(default_factory=Counter)
    audited: int = 0


SHIPMENT_FIELDS = ["carrier", "tracking_number", "service", "account_number", "ship_date", "promised_delivery",
                   "dest_postal", "dest_country", "dest_residential", "address_validated", "weight", "weight_unit",
                   "length", "width", "height", "dim_unit", "declared_value_cents", "item_value_cents", "currency",
                   "dest_timezone"]
SCAN_FIELDS = ["id", "carrier", "tracking_number", "occurred_at", "utc_offset_min", "status", "exception_reason"]
LINE_FIELDS = ["id", "carrier", "tracking_number", "invoice_number", "invoice_date", "line_no", "charge_type",
               "amount_cents", "billed_weight", "weight_unit", "zone", "currency"]


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
        ships[col] = pd.Series([_opt_bool(v) for v in ships[col]], index=ships.index, dtype=object)
    for col in ("declared_value_cents", "item_value_cents"):
        ships[col] = pd.to_numeric(ships[col], errors="coerce").astype("Int64")
    sc["occurred_at"] = pd.to_datetime(sc["occurred_at"], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    sc["utc_offset_min"] = pd.to_numeric(sc["utc_offset_min"], errors="coerce").astype("Int64")
    sc["id"] = sc["id"].astype("int64")
    ln["invoice_date"] = pd.to_datetime(ln["invoice_date"]).astype("datetime64[ns]")
    for col in ("id", "line_no", "amount_cents"):
        ln[col] = ln[col].astype("int64")
    return AuditFrames(ships.reset_index(drop=True), sc.reset_index(drop=True), ln.reset_index(drop=True))


def _d(x: object) -> dt.date:
    return pd.Timestamp(x).date()  # type: ignore[arg-type]


def _fmt_local(ts: pd.Timestamp) -> str:
    s = ts.strftime("%Y-%m-%dT%H:%M%z")
    return s[:-2] + ":" + s[-2:]


def run_audit(frames: AuditFrames, contracts: ContractSet, as_of: dt.date) -> AuditResult:
    warnings: Counter[str] = Counter()
    ships = frames.shipments.copy()
    out: list[dict[str, object]] = []
    if ships.empty:
        return AuditResult(pd.DataFrame(columns=FINDING_COLUMNS), warnings, 0)
    # the contract of each shipment
    ships["ci"] = -1
    for i, (carrier, account) in enumerate(zip(ships["carrier"], ships["account_number"], strict=True)):
        k = contracts.match(carrier, account if isinstance(account, str) else None)
        if k is not None:
            ships.iat[i, ships.columns.get_loc("ci")] = contracts.contracts.index(k)
    for carrier in sorted(set(ships.loc[ships["ci"] < 0, "carrier"])):
        warnings[f"{carrier}: no contract loaded: its shipments are not audited"] += int(
            ((ships["ci"] < 0) & (ships["carrier"] == carrier)).sum())
    audited = 0
    for ci, sh in ships[ships["ci"] >= 0].groupby("ci", sort=True):
        c = contracts.contracts[int(ci)]
        keyset = sh[["carrier", "tracking_number"]]
        sc = frames.scans.merge(keyset, on=["carrier", "tracking_number"], how="inner")
        ln = frames.lines.merge(keyset, on=["carrier", "tracking_number"], how="inner")
        out.extend(_audit_contract(c, sh.reset_index(drop=True), sc, ln, as_of, warnings))
        audited += len(sh)
    df = pd.DataFrame(out, columns=FINDING_COLUMNS)
    return AuditResult(df, warnings, audited)


def _local_dates(ev: pd.DataFrame, tz_of: pd.Series) -> pd.Series:
    """Local date of each event: in the offset recorded with it, else the destination time zone."""
    out = pd.Series(pd.NaT, index=ev.index, dtype="datetime64[ns]")
    has = ev["utc_offset_min"].notna()
    if has.any():
        loc = ev.loc[has, "occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None) + pd.to_timedelta(
            ev.loc[has, "utc_offset_min"].astype("int64"), unit="min")
        out.loc[has] = loc.dt.normalize()
    rest = ev.index[~has]
    if len(rest):
        tzs = tz_of.loc[rest]
        for tz, idx in tzs.groupby(tzs).groups.items():
            out.loc[idx] = ev.loc[idx, "occurred_at"].dt.tz_convert(str(tz)).dt.tz_localize(None).dt.normalize()
    return out


def _audit_contract(c: Contract, sh: pd.DataFrame, sc: pd.DataFrame, ln: pd.DataFrame, as_of: dt.date,
                    warnings: Counter[str]) -> list[dict[str, object]]:
    rules = c.claims
    n = len(sh)
    sh = sh.copy()
    sh["sid"] = np.arange(n)
    sh["tz"] = sh["dest_timezone"].where(sh["dest_timezone"].notna() & (sh["dest_timezone"] != ""), c.calendar.timezone)
    sid_of = sh.set_index(["carrier", "tracking_number"])["sid"]
    as_of_np = np.datetime64(as_of, "D")
    ship_d = sh["ship_date"].to_numpy(dtype="datetime64[D]")
    out: list[dict[str, object]] = []

    # ---- events
    if len(sc):
        sc = sc.assign(sid=sid_of.reindex(pd.MultiIndex.from_frame(sc[["carrier", "tracking_number"]])).to_numpy())
        sc = sc.sort_values(["sid", "occurred_at", "id"], kind="stable").reset_index(drop=True)
        sc["local_date"] = _local_dates(sc, pd.Series(sh["tz"].to_numpy()[sc["sid"].to_numpy()], index=sc.index))
    else:
        sc = pd.DataFrame(columns=["sid", "occurred_at", "status", "exception_reason", "local_date", "utc_offset_min"])
    g = sc.groupby("sid")
    is_deliv = sc["status"] == "delivered"
    first_deliv = sc[is_deliv].groupby("sid").head(1).set_index("sid")
    delivered_at = first_deliv["occurred_at"].reindex(range(n))
    delivered_off = first_deliv["utc_offset_min"].reindex(range(n))
    delivered_date = first_deliv["local_date"].reindex(range(n))
    final = sc[sc["status"].isin(FINAL_STATUSES)].groupby("sid").size().reindex(range(n), fill_value=0) > 0
    carrier_scans = sc[sc["status"] != "label_created"].groupby("sid").size().reindex(range(n), fill_value=0)
    lost_ev = sc[sc["status"] == "lost"].groupby("sid").size().reindex(range(n), fill_value=0) > 0
    dmg_mask = (sc["status"] == "damaged") | (sc["exception_reason"] == "damage")
    first_dmg = sc[dmg_mask].groupby("sid").head(1).set_index("sid")
    damaged = pd.Series(False, index=range(n))
    damaged.loc[first_dmg.index] = True
    last_idx = g["occurred_at"].idxmax() if len(sc) else pd.Series(dtype="int64")
    # latest instant; ties keep read order: take the last row with the max instant
    if len(sc):
        mx = g["occurred_at"].transform("max")
        last_rows = sc[sc["occurred_at"] == mx].groupby("sid").tail(1).set_index("sid")
        last_date = last_rows["local_date"].reindex(range(n))
    else:
        last_date = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    del last_idx
    # excluded exception strictly before delivered_at
    excl = pd.Series(None, index=range(n), dtype=object)
    if len(sc) and rules.excluded_exception_reasons:
        dat = delivered_at.reindex(sc["sid"]).to_numpy()
        before = sc["occurred_at"].to_numpy() < dat
        m = before & sc["exception_reason"].isin(rules.excluded_exception_reasons).to_numpy()
        ex = sc[m].groupby("sid").head(1).set_index("sid")
        excl.loc[ex.index] = [f"{r} exception at {_fmt_ev(t, o, tz)}" for r, t, o, tz in zip(
            ex["exception_reason"], ex["occurred_at"], ex["utc_offset_min"],
            sh["tz"].to_numpy()[ex.index.to_numpy()], strict=True)]

    # ---- billed charges and duplicates
    if len(ln):
        ln = ln.assign(sid=sid_of.reindex(pd.MultiIndex.from_frame(ln[["carrier", "tracking_number"]])).to_numpy())
        pos = ln[ln["amount_cents"] > 0].sort_values(
            ["sid", "invoice_date", "invoice_number", "line_no"], kind="stable").reset_index(drop=True)
    else:
        pos = pd.DataFrame(columns=["sid", "id", "invoice_number", "invoice_date", "line_no", "charge_type",
                                    "amount_cents", "billed_weight", "weight_unit", "zone", "currency"])
    dup = pos.duplicated(["sid", "charge_type", "amount_cents"], keep="first")
    dups = pos[dup]
    billed = pos[~dup].reset_index(drop=True)
    bsum = billed.groupby("sid")["amount_cents"].sum().reindex(range(n), fill_value=0).astype(np.int64)
    first_line = billed.groupby("sid").head(1).set_index("sid")
    first_inv_date = first_line["invoice_date"].reindex(range(n))
    is_billed = billed.groupby("sid").size().reindex(range(n), fill_value=0) > 0

    # ---- value due
    liab = rules.default_liability_cents
    item = pd.to_numeric(sh["item_value_cents"], errors="coerce").fillna(0).astype(np.int64)
    decl = pd.to_numeric(sh["declared_value_cents"], errors="coerce").fillna(0).astype(np.int64)
    value_due = np.minimum(item, np.maximum(decl, liab))

    # ---- service findings: lost, damaged, void_label, late_delivery (first that applies)
    age_last = (as_of_np - last_date.to_numpy(dtype="datetime64[D]")).astype("timedelta64[D]").astype("float")
    is_lost = (~final) & (carrier_scans > 0) & (lost_ev | (age_last >= rules.lost_after_days))
    is_dmg = damaged & ~is_lost
    age_ship = (as_of_np - ship_d).astype("timedelta64[D]").astype(np.int64)
    is_void = is_billed & (carrier_scans == 0) & (age_ship >= rules.void_after_days) & ~is_lost & ~is_dmg
    service_kind = pd.Series(None, index=range(n), dtype=object)
    service_kind[is_void] = "void_label"
    service_kind[is_dmg] = "damaged"
    service_kind[is_lost] = "lost"

    # late delivery
    late_info = _late(c, sh, delivered_at, delivered_off, delivered_date, first_inv_date, warnings)
    late = late_info["late"] & service_kind.isna()
    service_kind[late] = "late_delivery"

    refund = rules.value_claims_refund_shipping
    suppress_all = pd.Series(False, index=range(n))
    suppress_types: dict[int, tuple[str, ...]] = {}
    carrier = c.carrier
    for sid in np.flatnonzero(service_kind.notna().to_numpy()):
        kind = service_kind[sid]
        row = sh.iloc[sid]
        tn = row["tracking_number"]
        ev: dict[str, object] = {"ship_date": str(_d(row["ship_date"])), "service": row["service"]}
        excluded = None
        if kind == "lost":
            amount = int(value_due[sid]) + (int(bsum[sid]) if refund else 0)
            deadline = _d(row["ship_date"]) + dt.timedelta(days=rules.loss_window_days)
            why = ("a lost scan" if lost_ev[sid] else
                   f"no delivery; last event on {_d(last_date[sid])}, {int(age_last[sid])} days before {as_of}")
            reason = f"lost: {why}; value due {fmt(int(value_due[sid]))}" + (
                f" + billed charges {fmt(int(bsum[sid]))}" if refund and bsum[sid] else "")
        elif kind == "damaged":
            amount = int(value_due[sid]) + (int(bsum[sid]) if refund else 0)
            base = delivered_date[sid] if pd.notna(delivered_date[sid]) else first_dmg.loc[sid, "local_date"]
            deadline = _d(base) + dt.timedelta(days=rules.damage_window_days)
            reason = f"damaged ({first_dmg.loc[sid, 'status']} event on {_d(first_dmg.loc[sid, 'local_date'])}); " \
                     f"value due {fmt(int(value_due[sid]))}" + (
                         f" + billed charges {fmt(int(bsum[sid]))}" if refund and bsum[sid] else "")
        elif kind == "void_label":
            amount = int(bsum[sid])
            deadline = _d(first_inv_date[sid]) + dt.timedelta(days=rules.dispute_window_days)
            reason = f"billed {fmt(amount)} but no carrier scan in {int(age_ship[sid])} days since ship date"
        else:
            refundable = billed[(billed["sid"] == sid) & billed["charge_type"].isin(rules.late_refund_charges)]
            amount = int(refundable["amount_cents"].sum())
            deadline = late_info["file_by"][sid]
            reason = late_info["reason"][sid]
            susp = c.suspended(str(row["service"]), _d(row["ship_date"]))
            if isinstance(excl[sid], str):
                excluded = f"excluded: {excl[sid]}"
            elif susp is not None:
                excluded = f"guarantee suspended {susp.start}..{susp.end} for {row['service']}"
            ev["lines"] = [int(x) for x in refundable["id"]]
        claimable = excluded is None and as_of <= deadline
        if excluded:
            reason += f"; not claimable: {excluded}"
        elif not claimable:
            reason += f"; window closed on {deadline}"
        out.append(_row(kind, carrier, tn, None, None, amount, c.currency, deadline, claimable, reason, ev))
        if claimable:
            if kind in ("void_label",) or (kind in ("lost", "damaged") and refund):
                suppress_all[sid] = True
            elif kind == "late_delivery":
                suppress_types[int(sid)] = rules.late_refund_charges

    # ---- billing findings
    disp = dt.timedelta(days=rules.dispute_window_days)
    for r in dups.itertuples(index=False):
        sid = int(r.sid)
        deadline = _d(r.invoice_date) + disp
        out.append(_row("duplicate_charge", carrier, sh.at[sid, "tracking_number"], r.invoice_number, int(r.id),
                        int(r.amount_cents), r.currency or c.currency, deadline, as_of <= deadline,
                        f"{r.charge_type} {fmt(int(r.amount_cents))} billed again on {r.invoice_number}",
                        {"line": int(r.id)}))
    if billed.empty:
        return out
    b = billed.copy()
    sup = suppress_all.to_numpy()[b["sid"].to_numpy()]
    for sid, types in suppress_types.items():
        sup |= (b["sid"].to_numpy() == sid) & b["charge_type"].isin(types).to_numpy()
    b = b[~sup]
    shb = sh.iloc[b["sid"].to_numpy()].reset_index(drop=True)
    b = b.reset_index(drop=True)

    def add(mask: pd.Series | np.ndarray, kind: str, amounts: np.ndarray | pd.Series, why: list[str] | pd.Series) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        am = np.asarray(amounts)
        whys = list(why) if not isinstance(why, pd.Series) else why.tolist()
        for i in idx:
            r = b.iloc[i]
            deadline = _d(r["invoice_date"]) + disp
            out.append(_row(kind, carrier, shb.at[i, "tracking_number"], r["invoice_number"], int(r["id"]),
                            int(am[i]), r["currency"] or c.currency, deadline, as_of <= deadline, whys[i],
                            {"line": int(r["id"])}))

    ct = b["charge_type"]
    amt = b["amount_cents"].to_numpy(dtype=np.int64)
    res = (ct == "residential") & (shb["dest_residential"] == False)  # noqa: E712 - None is "not judged"
    add(res, "residential_surcharge", amt, ["residential surcharge on an address the manifest says is commercial"] * len(b))
    adc = (ct == "address_correction") & (shb["address_validated"] == True)  # noqa: E712
    add(adc, "address_correction", amt, ["address correction on an address validated before shipping"] * len(b))
    if c.das_postal_codes is not None:
        das = c.das_postal_codes
        in_das = [_in_das(p, ctry, das) for p, ctry in zip(shb["dest_postal"], shb["dest_country"], strict=True)]
        m = (ct == "delivery_area").to_numpy() & ~np.array(in_das, dtype=bool)
        add(m, "delivery_area_surcharge", amt,
            [f"delivery area surcharge; {p} is not in the contract's DAS list" for p in shb["dest_postal"]])
    # fuel
    # the base is every billed transportation line (duplicates out), suppressed for a claim or not
    tr = billed[billed["charge_type"] == "transportation"].groupby(["sid", "invoice_number"])["amount_cents"].sum()
    fuel_rows = np.flatnonzero((ct == "fuel").to_numpy())
    fuel_amt = np.zeros(len(b), dtype=np.int64)
    fuel_mask = np.zeros(len(b), dtype=bool)
    fuel_why = [""] * len(b)
    for i in fuel_rows:
        srow = shb.iloc[i]
        pct = fuel_percent(c, str(srow["service"]), _d(srow["ship_date"]))
        if pct is None:
            warnings[f"{carrier}: no fuel table row for service {srow['service']} on its ship date: "
                     "fuel not judged"] += 1
            continue
        base = int(tr.get((b.at[i, "sid"], b.at[i, "invoice_number"]), 0))
        bp = int(pct * 100)
        if Decimal(bp) != pct * 100:
            expected = int((Decimal(base) * pct / 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
        else:
            expected = (base * bp * 2 + 10000) // 20000
        diff = int(amt[i]) - expected
        if diff >= 1:
            fuel_mask[i] = True
            fuel_amt[i] = diff
            fuel_why[i] = (f"fuel {fmt(int(amt[i]))} > {pct}% of transportation {fmt(base)} = {fmt(expected)}")
    add(fuel_mask, "fuel_surcharge", fuel_amt, fuel_why)
    # dim weight and rate overcharge
    tmask = (ct == "transportation").to_numpy()
    for i in np.flatnonzero(tmask):
        srow = shb.iloc[i]
        svc = c.services.get(str(srow["service"]))
        if svc is None or svc.rates is None:
            continue
        correct = correct_billable_weight(
            weight=srow["weight"], weight_unit=srow["weight_unit"], length=srow["length"], width=srow["width"],
            height=srow["height"], dim_unit=srow["dim_unit"], contract_weight_unit=c.weight_unit,
            contract_dim_unit=c.dim_unit, dim_divisor=c.dim_divisor, weight_increment=c.weight_increment,
            dim_rounding=c.dim_rounding)
        if correct is None:
            continue
        r = b.iloc[i]
        billed_w = billed_weight_in(r["billed_weight"], r["weight_unit"] if isinstance(r["weight_unit"], str) else None,
                                    c.weight_unit, c.weight_increment)
        if billed_w is None:
            billed_w = correct
        if billed_w < correct:
            continue
        zone = r["zone"] if isinstance(r["zone"], str) else None
        price = svc.rates.price(zone, as_decimal(correct))
        if price is None:
            warnings[_unpriced(c, svc.rates, zone, as_decimal(correct))] += 1
            continue
        diff = int(amt[i]) - price
        if diff < 1:
            continue
        kind = "dim_weight" if billed_w > correct else "rate_overcharge"
        why = (f"billed {_w(billed_w)} {c.weight_unit}, correct billable weight {_w(correct)}: "
               f"{fmt(int(amt[i]))} vs rate card {fmt(price)} (zone {zone})")
        deadline = _d(r["invoice_date"]) + disp
        out.append(_row(kind, carrier, srow["tracking_number"], r["invoice_number"], int(r["id"]), diff,
                        r["currency"] or c.currency, deadline, as_of <= deadline, why,
                        {"line": int(r["id"]), "correct_weight": _w(correct), "rate": fmt(price)}))
    return out


def _w(f: Fraction) -> str:
    d = as_decimal(f)
    return str(d.normalize()) if d == d.to_integral_value() else str(d.quantize(Decimal("0.001")).normalize())


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


def _fmt_ev(t: pd.Timestamp, off: object, tz: str) -> str:
    if off is not None and not pd.isna(off):  # type: ignore[call-overload]
        local = t.tz_convert(dt.timezone(dt.timedelta(minutes=int(off))))  # type: ignore[call-overload]
    else:
        local = t.tz_convert(tz)
    return _fmt_local(local)


def _late(c: Contract, sh: pd.DataFrame, delivered_at: pd.Series, delivered_off: pd.Series, delivered_date: pd.Series,
          first_inv_date: pd.Series, warnings: Counter[str]) -> dict[str, pd.Series]:
    n = len(sh)
    late = pd.Series(False, index=range(n))
    file_by = pd.Series(None, index=range(n), dtype=object)
    reason = pd.Series(None, index=range(n), dtype=object)
    rules = c.claims
    svc = sh["service"].astype(str)
    for code in sorted(set(svc)):
        s = c.services.get(code)
        if s is None:
            warnings[f"{c.carrier}: service {code} is not in the contract {c.path.name}: not judged for lateness"] += \
                int((svc == code).sum())
            continue
        if not s.guaranteed:
            continue
        idx = np.flatnonzero((svc == code).to_numpy() & delivered_at.notna().to_numpy())
        if not len(idx):
            continue
        sub = sh.iloc[idx]
        given = sub["promised_delivery"].notna() & (sub["promised_delivery"] != "")
        promised_day = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns]")
        deadline_at = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns, UTC]")
        deadline_txt = pd.Series("", index=sub.index, dtype=object)
        if given.any():
            txt = sub.loc[given, "promised_delivery"].astype(str)
            deadline_at.loc[given] = pd.to_datetime(txt, utc=True, format="ISO8601")
            promised_day.loc[given] = pd.to_datetime(txt.str[:10])
            deadline_txt.loc[given] = txt.str[:16] + txt.str[-6:].where(~txt.str.endswith("Z"), "Z")
        comp = ~given
        if comp.any():
            if s.transit_days is None:
                warnings[f"{c.carrier}: service {code} has no transit_days and no promised_delivery: not judged"] += \
                    int(comp.sum())
                comp_idx = sub.index[comp]
                comp = pd.Series(False, index=sub.index)
                del comp_idx
            else:
                ship = sub.loc[comp, "ship_date"].to_numpy(dtype="datetime64[D]")
                pdays = promised_date(c.calendar, ship, np.full(len(ship), s.transit_days))
                promised_day.loc[comp] = pdays.astype("datetime64[ns]")
                ct = s.commit_time or dt.time(23, 59)
                local = pd.Series(pdays.astype("datetime64[ns]"), index=sub.index[comp]) + pd.Timedelta(
                    hours=ct.hour, minutes=ct.minute)
                tzs = sub.loc[comp, "tz"]
                for tz, tidx in tzs.groupby(tzs).groups.items():
                    loc = local.loc[tidx].dt.tz_localize(str(tz), ambiguous=np.ones(len(tidx), dtype=bool),
                                                         nonexistent="shift_forward")
                    deadline_at.loc[tidx] = loc.dt.tz_convert("UTC")
                    deadline_txt.loc[tidx] = [_fmt_local(x) for x in loc]
        dat = delivered_at.iloc[idx].set_axis(sub.index)
        is_late = (dat > deadline_at) & deadline_at.notna()
        for j in sub.index[is_late.to_numpy()]:
            pos = int(sh.index.get_loc(j))
            late.iat[pos] = True
            anchor = rules.late_window_from
            if anchor == "delivered":
                base = delivered_date.iat[pos]
            elif anchor == "invoice" and pd.notna(first_inv_date.iat[pos]):
                base = first_inv_date.iat[pos]
            else:
                base = promised_day.loc[j]
            file_by.iat[pos] = _d(base) + dt.timedelta(days=rules.late_window_days)
            tz = str(sh.at[j, "tz"])
            reason.iat[pos] = (f"delivered {_fmt_ev(dat.loc[j], delivered_off.iat[pos], tz)}, "
                               f"promised by {deadline_txt.loc[j]}")
    return {"late": late, "file_by": file_by, "reason": reason}


def _row(kind: str, carrier: str, tn: str, invoice: str | None, line_id: int | None, amount: int, currency: str,
         deadline: dt.date, claimable: bool, reason: str, evidence: dict[str, object]) -> dict[str, object]:
    key = f"{kind}|{carrier}|{tn}" + (f"|{line_id}" if line_id is not None else "")
    return {"key": key, "kind": kind, "carrier": carrier, "tracking_number": tn, "invoice_number": invoice,
            "invoice_line_id": line_id, "amount_cents": int(amount), "currency": currency, "deadline": deadline,
            "claimable": bool(claimable), "reason": reason, "evidence": json.dumps(evidence, sort_keys=True)}
