"""Generate audit benchmark data straight into a recoup SQLite database (the bulk path: one
``executemany`` per table and chunk, no ORM objects).

    python bench/gen_audit_data.py --shipments 1000000 --db /tmp/audit_1m.db
    python bench/gen_audit_data.py --shipments 10000 --db /tmp/a.db --append 0.01   # add 1% new data

Each shipment has 10 scans (label, pick-up, 6 in transit, out for delivery, delivered) and 4
charges (transportation, fuel and two surcharges) on weekly invoices of its carrier, priced with the
contract's own rate cards and fuel table, with realistic faults mixed in: late deliveries (some after
a weather exception), parcels lost in transit (their scans stop), damage, labels billed but never
scanned, dim-weight and rate overcharges, fuel overcharges, residential / delivery-area / address
correction surcharges billed wrongly, duplicate lines. Contracts are the acceptance data set's
(``--contracts``). Deterministic for a given ``--seed``.

``--append FRACTION`` adds new data to an existing database, as a day of ingest would: new
shipments (FRACTION of the existing count) with their scans and charges, the last scans of parcels
still in transit, and a new invoice billing them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from recoup.sla.calendar import promised_date
from recoup.sla.contracts import Contract, load_contracts
from recoup.store.db import init_db, make_engine

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = (ROOT / ".." / "shared" / "acceptance" / "small" / "contracts").resolve()
AS_OF = dt.date(2026, 11, 20)
DAYS = 90                       # ship dates spread over the DAYS before as-of
CARRIERS = {"ups": 0.40, "fedex": 0.30, "royal_mail": 0.15, "dpd_uk": 0.15}
PREFIX = {"ups": "1ZB", "fedex": "7B", "royal_mail": "RB", "dpd_uk": "6B"}
TZ_US = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
SURCHARGES = ["signature", "additional_handling", "declared_value", "large_package"]
US_ZONES = np.array(["2", "3", "4", "5", "6", "7", "8"])
GB_ZONES = np.array(["MAINLAND", "MAINLAND", "MAINLAND", "MAINLAND", "HIGHLANDS", "ISLANDS"])
TS = "%Y-%m-%d %H:%M:%S.%f"


@dataclass
class Priced:
    """A rate card as integer arrays: band upper bounds in weight increments, cents per zone."""

    bounds: np.ndarray
    cents: dict[str, np.ndarray]


def _cards(c: Contract) -> dict[str, Priced]:
    inc = Decimal(c.weight_increment)
    out = {}
    for code, s in c.services.items():
        if s.rates is None:
            continue
        bounds = np.array([int(w / inc) for w in s.rates.weights], dtype=np.int64)
        out[code] = Priced(bounds, {z: np.array([v or 0 for v in col], dtype=np.int64)
                                    for z, col in s.rates.zones.items()})
    return out


def _ceil_div(a: np.ndarray, b: int | np.ndarray) -> np.ndarray:
    return -(-a // b)


def _fuel_bp(c: Contract, services: np.ndarray, ship: np.ndarray) -> np.ndarray:
    """Fuel percent in basis points (1/100 %) per shipment; -1 where no row applies."""
    out = np.full(len(ship), -1, dtype=np.int64)
    for row in c.fuel:   # sorted by effective: later rows overwrite
        m = ship >= np.datetime64(row.effective, "D")
        if row.services:
            m &= np.isin(services, list(row.services))
        out[m] = int(row.percent * 100)
    return out


def generate(n: int, rng: np.random.Generator, contracts: dict[str, Contract], start_index: int,
             as_of: dt.date, days: int) -> dict[str, pd.DataFrame]:
    """Shipments, scans and invoice lines (without invoice ids) of n new parcels."""
    carriers = rng.choice(list(CARRIERS), size=n, p=list(CARRIERS.values()))
    idx = np.arange(start_index, start_index + n)
    ship_off = rng.integers(1, days + 1, size=n)
    ship = np.datetime64(as_of, "D") - ship_off.astype("timedelta64[D]")
    frames: dict[str, list[pd.DataFrame]] = {"shipments": [], "scans": [], "lines": []}
    for code in CARRIERS:
        m = carriers == code
        if not m.any():
            continue
        part = _carrier(code, contracts[code], idx[m], ship[m], rng, as_of)
        for k, v in part.items():
            frames[k].append(v)
    return {k: pd.concat(v, ignore_index=True) for k, v in frames.items()}


def _carrier(code: str, c: Contract, idx: np.ndarray, ship: np.ndarray, rng: np.random.Generator,
             as_of: dt.date) -> dict[str, pd.DataFrame]:
    n = len(idx)
    gb = c.currency == "GBP"
    services = np.array(sorted(c.services))
    svc = rng.choice(services, size=n)
    tn = np.char.add(PREFIX[code], np.char.zfill(idx.astype(str), 12))
    tz = np.full(n, c.calendar.timezone, dtype=object) if gb else rng.choice(TZ_US, size=n).astype(object)
    inc10 = int(Decimal(c.weight_increment) * 10)            # increment in tenths of the unit
    # weights (tenths of the contract unit) and whole-unit dims: exact billable weights
    w10 = rng.integers(3, 200 if not gb else 150, size=n)
    dims = rng.integers(4, 17, size=(n, 3)) if not gb else rng.integers(10, 41, size=(n, 3))
    big = rng.random(n) < 0.3
    dims[big] += rng.integers(0, 9 if not gb else 16, size=(int(big.sum()), 3))
    vol = dims.prod(axis=1)
    div = int(c.dim_divisor)
    # billable weight in increments: ceil(max(vol/div, w10/10) / inc)
    dim_inc = _ceil_div(vol * 10, div * inc10)
    act_inc = _ceil_div(w10, inc10)
    bill_inc = np.maximum(dim_inc, act_inc)
    residential = rng.random(n) < 0.55
    validated = rng.random(n) < 0.7
    zones = rng.choice(GB_ZONES if gb else US_ZONES, size=n)
    das_list = sorted(c.das_postal_codes or ())
    in_das = (rng.random(n) < 0.04) & bool(das_list)
    if gb:
        postal = np.char.add(np.char.add(rng.choice(["AB", "EC", "M", "LS", "BS", "CF", "G"], size=n),
                                         rng.integers(1, 30, size=n).astype(str)), " 1AA")
    else:
        postal = np.char.zfill(rng.integers(10000, 99999, size=n).astype(str), 5)
    if das_list:
        postal = np.where(in_das, rng.choice(das_list, size=n), postal)
        # a GB list of areas / outward codes: make a full code of it
        if gb:
            short = in_das & (np.char.str_len(postal.astype(str)) <= 4)
            postal = np.where(short, np.char.add(postal.astype(str), "1 2AB"), postal)
    item = rng.integers(1000, 60000, size=n)
    declared = np.where(rng.random(n) < 0.2, rng.integers(5000, 50000, size=n), 0)

    # ---- the parcel's life
    u = rng.random(n)
    void = u < 0.003
    lost = (u >= 0.003) & (u < 0.023)
    lost_scan = (u >= 0.023) & (u < 0.028)
    damaged = (u >= 0.028) & (u < 0.038)
    weather = (u >= 0.038) & (u < 0.058)
    late = ((u >= 0.058) & (u < 0.14)) | weather
    transit = np.array([c.services[s].transit_days or 3 for s in svc])
    promised = promised_date(c.calendar, ship, transit)
    commit_min = np.array([(c.services[s].commit_time or dt.time(23, 59)).hour * 60
                           + (c.services[s].commit_time or dt.time(23, 59)).minute for s in svc])
    deliver_day = promised + np.where(late & (rng.random(n) < 0.5), 1, 0).astype("timedelta64[D]")
    on_time_min = np.minimum(commit_min - rng.integers(1, 180, size=n), 20 * 60)
    deliver_min = np.where(late, commit_min + rng.integers(1, 240, size=n), np.maximum(on_time_min, 8 * 60))
    deliver_min = np.minimum(deliver_min, 23 * 60 + 58)
    # parcels whose delivery is still ahead of as-of are in transit
    in_flight = deliver_day >= np.datetime64(as_of, "D")

    # 10 local times per parcel (minutes after the ship date's midnight)
    span = ((deliver_day - ship).astype(np.int64) * 1440 + deliver_min)
    t = np.empty((n, 10), dtype=np.int64)
    t[:, 0] = rng.integers(8 * 60, 12 * 60, size=n)
    t[:, 1] = rng.integers(15 * 60, 18 * 60, size=n)
    ofd = (deliver_day - ship).astype(np.int64) * 1440 + rng.integers(6 * 60, 7 * 60 + 30, size=n)
    ofd = np.minimum(ofd, span - 5)
    frac = np.sort(rng.random((n, 6)), axis=1)
    t[:, 2:8] = t[:, 1:2] + 5 + (frac * np.maximum(ofd - t[:, 1] - 10, 1)[:, None]).astype(np.int64)
    t[:, 8] = ofd
    t[:, 9] = span
    status = np.tile(np.array(["label_created", "picked_up"] + ["in_transit"] * 6
                              + ["out_for_delivery", "delivered"], dtype=object), (n, 1))
    reason = np.full((n, 10), None, dtype=object)
    # lost: scans stop early (the remaining slots repeat in-transit scans early on)
    stop = lost | lost_scan
    t[stop, 2:] = t[stop, 1:2] + np.arange(1, 9) * 97
    status[stop, 8:] = "in_transit"
    status[lost_scan, 9] = "lost"
    # damaged in transit, then delivered
    status[damaged, 5] = "exception"
    reason[damaged, 5] = "damage"
    status[weather, 4] = "exception"
    reason[weather, 4] = "weather"
    local0 = pd.to_datetime(ship).to_numpy()
    local = local0[:, None] + (t * 60_000_000_000).astype("timedelta64[ns]")
    # scans after as-of have not happened yet
    keep = local < np.datetime64(as_of, "ns") + np.timedelta64(0, "ns")
    keep[~in_flight & ~stop] = True
    keep[:, 0] = True
    keep[void, 1:] = False
    rows = np.repeat(np.arange(n), 10)
    flat_keep = keep.ravel()
    sidx = rows[flat_keep]
    loc = pd.Series(local.ravel()[flat_keep])
    tz_s = tz[sidx]
    occurred = np.empty(len(sidx), dtype="datetime64[ns]")
    offsets = np.empty(len(sidx), dtype=np.int64)
    for z in np.unique(tz_s):
        zm = tz_s == z
        aware = loc[zm].dt.tz_localize(str(z), ambiguous=np.ones(int(zm.sum()), dtype=bool),
                                       nonexistent="shift_forward")
        utc = aware.dt.tz_convert("UTC").dt.tz_localize(None)
        occurred[zm] = utc.to_numpy()
        offsets[zm] = ((loc[zm].to_numpy() - utc.to_numpy()) // np.timedelta64(1, "m")).astype(np.int64)
    scans = pd.DataFrame({
        "carrier": code, "tracking_number": tn[sidx],
        "occurred_at": pd.Series(occurred).dt.strftime(TS).to_numpy(), "utc_offset_min": offsets,
        "status": status.ravel()[flat_keep], "exception_reason": reason.ravel()[flat_keep],
    })

    # ---- charges: 4 lines, priced with the contract
    cards = _cards(c)
    price = np.zeros(n, dtype=np.int64)
    priced = np.zeros(n, dtype=bool)
    for s, card in cards.items():
        for z, cents in card.cents.items():
            m = (svc == s) & (zones == z)
            if not m.any():
                continue
            band = np.searchsorted(card.bounds, bill_inc[m], side="left")
            ok = band < len(card.bounds)
            p = np.zeros(int(m.sum()), dtype=np.int64)
            p[ok] = cents[band[ok]]
            price[m] = p
            priced[np.flatnonzero(m)[ok & (p > 0)]] = True
    no_card = ~priced
    price[no_card] = 800 + bill_inc[no_card] * 45 * inc10
    billed_inc = bill_inc.copy()
    dim_fault = rng.random(n) < 0.02
    billed_inc[dim_fault] += rng.integers(1, 4, size=int(dim_fault.sum())) * max(1, 10 // inc10)
    transport = price.copy()
    for s, card in cards.items():   # a dim-weight fault is billed at the rate of the billed weight
        for z, cents in card.cents.items():
            m = dim_fault & (svc == s) & (zones == z)
            band = np.searchsorted(card.bounds, billed_inc[m], side="left")
            transport[np.flatnonzero(m)[band < len(card.bounds)]] = cents[band[band < len(card.bounds)]]
    rate_fault = (rng.random(n) < 0.03) & ~dim_fault
    transport[rate_fault] += rng.integers(25, 900, size=int(rate_fault.sum()))
    bp = _fuel_bp(c, svc, ship)
    fuel = (transport * np.maximum(bp, 0) * 2 + 10000) // 20000
    fuel_fault = rng.random(n) < 0.02
    fuel[fuel_fault] += rng.integers(5, 200, size=int(fuel_fault.sum()))
    s3_type = np.where(residential, "residential", np.where(in_das, "delivery_area", "signature")).astype(object)
    wrong_res = ~residential & (rng.random(n) < 0.01)
    s3_type[wrong_res] = "residential"
    wrong_das = ~in_das & ~residential & (rng.random(n) < 0.01)
    s3_type[wrong_das] = "delivery_area"
    s3_amt = np.where(s3_type == "residential", 585, np.where(s3_type == "delivery_area", 410, 675))
    s4_type = rng.choice(SURCHARGES, size=n).astype(object)
    wrong_adc = validated & (rng.random(n) < 0.005)
    s4_type[wrong_adc] = "address_correction"
    s4_amt = rng.integers(150, 2500, size=n)
    # invoice: the Saturday after the ship date (a week later for some)
    weekday = (ship.astype("datetime64[D]").view("int64") - 4) % 7     # Monday = 0
    inv_day = ship + ((5 - weekday) % 7 + 7 * (rng.random(n) < 0.3)).astype("timedelta64[D]")
    billed = inv_day < np.datetime64(as_of, "D")
    inv_no = np.char.add(f"{code.upper()}-B", np.datetime_as_string(inv_day).astype(str))
    unit = c.weight_unit
    bw = np.char.mod("%g", billed_inc * inc10 / 10)   # text, as an invoice writes it
    n_lines = 4
    lines = pd.DataFrame({
        "carrier": code,
        "tracking_number": np.repeat(tn, n_lines),
        "invoice_number": np.repeat(inv_no, n_lines),
        "invoice_date": np.repeat(np.datetime_as_string(inv_day), n_lines),
        "charge_type": np.column_stack([np.full(n, "transportation", dtype=object), np.full(n, "fuel", dtype=object),
                                        s3_type, s4_type]).ravel(),
        "amount_cents": np.column_stack([transport, fuel, s3_amt, s4_amt]).ravel(),
        "billed_weight": np.column_stack([bw, np.full(n, None), np.full(n, None), np.full(n, None)]).ravel(),
        "weight_unit": np.column_stack([np.full(n, unit), np.full(n, None), np.full(n, None),
                                        np.full(n, None)]).ravel(),
        "zone": np.column_stack([zones, np.full(n, None), np.full(n, None), np.full(n, None)]).ravel(),
        "service": np.repeat(svc, n_lines),
        "ship_date": np.repeat(np.datetime_as_string(ship), n_lines),
        "currency": c.currency,
    })
    lines = lines[np.repeat(billed, n_lines)]
    # duplicates: a surcharge billed again on the next week's invoice
    dup = billed & (rng.random(n) < 0.005)
    if dup.any():
        d = lines[lines["tracking_number"].isin(tn[dup]) & (lines["charge_type"] != "transportation")
                  & (lines["charge_type"] != "fuel")].groupby("tracking_number").head(1).copy()
        nd = pd.to_datetime(d["invoice_date"]) + pd.Timedelta(days=7)
        d["invoice_date"] = nd.dt.strftime("%Y-%m-%d")
        d["invoice_number"] = f"{code.upper()}-B" + d["invoice_date"]
        lines = pd.concat([lines, d[nd < pd.Timestamp(as_of)]], ignore_index=True)
    ships = pd.DataFrame({
        "carrier": code, "tracking_number": tn, "manifested": 1, "service": svc,
        "account_number": f"{code.upper()}-001", "ship_date": np.datetime_as_string(ship),
        "promised_delivery": None, "origin_postal": "60607" if not gb else "NN4 7YE",
        "origin_country": "GB" if gb else "US", "dest_postal": postal, "dest_country": "GB" if gb else "US",
        "dest_residential": residential.astype(int), "address_validated": validated.astype(int),
        "weight": np.char.mod("%g", w10 / 10), "weight_unit": unit,
        "length": dims[:, 0].astype(str), "width": dims[:, 1].astype(str), "height": dims[:, 2].astype(str),
        "dim_unit": c.dim_unit, "declared_value_cents": declared, "item_value_cents": item,
        "currency": c.currency, "dest_timezone": tz, "order_id": np.char.add("ORD-", idx.astype(str)),
    })
    return {"shipments": ships, "scans": scans, "lines": lines}


SHIP_COLS = ["carrier", "tracking_number", "manifested", "service", "account_number", "ship_date",
             "promised_delivery", "origin_postal", "origin_country", "dest_postal", "dest_country",
             "dest_residential", "address_validated", "weight", "weight_unit", "length", "width", "height",
             "dim_unit", "declared_value_cents", "item_value_cents", "currency", "dest_timezone", "order_id",
             "updated_at"]
SCAN_COLS = ["carrier", "tracking_number", "occurred_at", "utc_offset_min", "status", "exception_reason",
             "source"]
LINE_COLS = ["invoice_id", "line_no", "carrier", "invoice_number", "invoice_date", "tracking_number",
             "charge_type", "amount_cents", "currency", "billed_weight", "weight_unit", "zone", "service",
             "ship_date", "account_number"]


def _tuples(df: pd.DataFrame, cols: list[str]) -> list[tuple[object, ...]]:
    arrays = []
    for col in cols:
        s = df[col]
        if s.dtype.kind in "iu":
            arrays.append(s.astype(object).tolist())
        else:
            arrays.append([None if (v is None or v != v) else v for v in s.astype(object).tolist()])
    return list(zip(*arrays, strict=True))


def write(db: sqlite3.Connection, data: dict[str, pd.DataFrame], now: str) -> dict[str, int]:
    """Insert one batch; invoices get their rows (new ones) and lines their line numbers."""
    cur = db.cursor()
    ships = data["shipments"].assign(updated_at=now)
    cur.executemany(f"INSERT OR REPLACE INTO shipment ({', '.join(SHIP_COLS)}) VALUES "
                    f"({', '.join('?' for _ in SHIP_COLS)})", _tuples(ships, SHIP_COLS))
    scans = data["scans"].assign(source="bench")
    cur.executemany(f"INSERT OR IGNORE INTO scan_event ({', '.join(SCAN_COLS)}) VALUES "
                    f"({', '.join('?' for _ in SCAN_COLS)})", _tuples(scans, SCAN_COLS))
    lines = data["lines"]
    n_lines = 0
    if len(lines):
        inv = lines.groupby(["carrier", "invoice_number"], sort=True).agg(
            invoice_date=("invoice_date", "first"), currency=("currency", "first"), n=("amount_cents", "size"),
            total=("amount_cents", "sum")).reset_index()
        known = {(r[0], r[1]): (r[2], r[3]) for r in cur.execute(
            "SELECT carrier, invoice_number, id, line_count FROM invoice")}
        new = inv[[(a, b) not in known for a, b in zip(inv["carrier"], inv["invoice_number"], strict=True)]]
        cur.executemany(
            "INSERT INTO invoice (carrier, invoice_number, invoice_date, account_number, currency, lines_hash, "
            "line_count, total_cents, format, loaded_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 'bench', ?)",
            [(a, b, d, f"{a.upper()}-001", cu, f"bench-{a}-{b}", now)
             for a, b, d, cu in zip(new["carrier"], new["invoice_number"], new["invoice_date"], new["currency"],
                                    strict=True)])
        ids = {(r[0], r[1]): (r[2], r[3]) for r in cur.execute(
            "SELECT carrier, invoice_number, id, line_count FROM invoice")}
        key = list(zip(lines["carrier"], lines["invoice_number"], strict=True))
        lines = lines.assign(invoice_id=[ids[k][0] for k in key],
                             base=[ids[k][1] for k in key], account_number=lines["carrier"].str.upper() + "-001")
        lines["line_no"] = lines["base"] + lines.groupby("invoice_id").cumcount()
        cur.executemany(f"INSERT INTO invoice_line ({', '.join(LINE_COLS)}) VALUES "
                        f"({', '.join('?' for _ in LINE_COLS)})", _tuples(lines, LINE_COLS))
        counts = lines.groupby("invoice_id").agg(n=("line_no", "size"), total=("amount_cents", "sum"))
        cur.executemany("UPDATE invoice SET line_count = line_count + ?, total_cents = total_cents + ? WHERE id = ?",
                        [(int(a), int(b), int(i)) for i, a, b in zip(counts.index, counts["n"], counts["total"],
                                                                     strict=True)])
        n_lines = len(lines)
    return {"shipments": len(ships), "scans": len(scans), "lines": n_lines}


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    return db


def create(path: Path, n: int, *, seed: int = 7, contracts_dir: Path = CONTRACTS, as_of: dt.date = AS_OF,
           chunk: int = 200_000, quiet: bool = False) -> dict[str, int]:
    if path.exists():
        path.unlink()
    eng = make_engine(f"sqlite:///{path}")
    init_db(eng)
    eng.dispose()
    contracts = {c.carrier: c for c in load_contracts(contracts_dir).contracts}
    rng = np.random.default_rng(seed)
    db = _connect(path)
    total = {"shipments": 0, "scans": 0, "lines": 0}
    now = (dt.datetime.combine(as_of, dt.time(1)) - dt.timedelta(days=1)).strftime(TS)
    t0 = time.perf_counter()
    for start in range(0, n, chunk):
        data = generate(min(chunk, n - start), rng, contracts, start, as_of, DAYS)
        db.execute("BEGIN")
        got = write(db, data, now)
        db.execute("COMMIT")
        for k, v in got.items():
            total[k] += v
        if not quiet:
            print(f"  {start + chunk:>9,} shipments  {time.perf_counter() - t0:6.1f} s", file=sys.stderr)
    db.close()
    return total


def append(path: Path, fraction: float, *, seed: int = 8, contracts_dir: Path = CONTRACTS,
           as_of: dt.date = AS_OF) -> dict[str, int]:
    """A day of new data: new shipments, the next scans of parcels in transit, a new invoice."""
    contracts = {c.carrier: c for c in load_contracts(contracts_dir).contracts}
    rng = np.random.default_rng(seed)
    db = _connect(path)
    n_existing = db.execute("SELECT count(*) FROM shipment").fetchone()[0]
    n_new = max(1, int(n_existing * fraction))
    # new parcels, shipped in the last few days, with their scans and (some) charges
    data = generate(n_new, rng, contracts, 10**11 + n_existing, as_of, 6)
    day = (as_of - dt.timedelta(days=1)).isoformat()
    data["lines"] = data["lines"].assign(invoice_number=data["lines"]["carrier"].str.upper() + f"-D{day}",
                                         invoice_date=day)
    # the delivery scans of parcels still in transit (one in every two)
    rows = db.execute(
        "SELECT s.carrier, s.tracking_number, max(e.occurred_at), max(e.utc_offset_min) FROM shipment s "
        "JOIN scan_event e ON e.carrier = s.carrier AND e.tracking_number = s.tracking_number "
        "WHERE s.ship_date >= ? GROUP BY s.carrier, s.tracking_number "
        "HAVING sum(e.status = 'delivered') = 0 AND sum(e.status = 'lost') = 0 LIMIT ?",
        ((as_of - dt.timedelta(days=6)).isoformat(), n_new)).fetchall()
    extra = []
    for i, (carrier, tn, last, off) in enumerate(rows):
        if i % 2:
            continue
        at = dt.datetime.fromisoformat(last) + dt.timedelta(hours=20)
        extra.append({"carrier": carrier, "tracking_number": tn, "occurred_at": at.strftime(TS),
                      "utc_offset_min": off, "status": "delivered", "exception_reason": None})
    if extra:
        data["scans"] = pd.concat([data["scans"], pd.DataFrame(extra)], ignore_index=True)
    now = dt.datetime.combine(as_of, dt.time(2)).strftime(TS)
    db.execute("BEGIN")
    got = write(db, data, now)
    db.execute("COMMIT")
    db.close()
    return got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shipments", type=int, default=100_000)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--contracts", type=Path, default=CONTRACTS)
    ap.add_argument("--as-of", default=AS_OF.isoformat())
    ap.add_argument("--append", type=float, help="add this fraction of new data to an existing database")
    a = ap.parse_args(argv)
    as_of = dt.date.fromisoformat(a.as_of)
    t0 = time.perf_counter()
    if a.append:
        got = append(a.db, a.append, seed=a.seed + 1, contracts_dir=a.contracts, as_of=as_of)
    else:
        got = create(a.db, a.shipments, seed=a.seed, contracts_dir=a.contracts, as_of=as_of)
    print(f"{a.db}: {got['shipments']:,} shipments, {got['scans']:,} scans, {got['lines']:,} invoice lines "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
