"""A small kit to build audit inputs by hand: contract TOML files in tmp_path, shipments, scans and
invoice lines as records, turned into the frames ``run_audit`` takes or into canonical CSV files that
the ingest service loads.

Records are kept as the merchant and the carrier write them (amounts as text, instants as ISO 8601
with an offset), so one set of records serves both the pure rules and the store."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from recoup.audit.rules import AuditFrames, AuditResult, prepare_frames, run_audit
from recoup.money import to_cents
from recoup.sla.contracts import Contract, ContractSet, load_contract, load_contracts

NDA_RATES = "weight,2,4,8\n" + "".join(f"{w},{10 + w}.00,{20 + w}.00,{30 + w}.00\n" for w in range(1, 11))
GND_RATES = "weight,2,4,8\n" + "".join(f"{w},{5 + w}.00,{6 + w}.00,{7 + w}.00\n" for w in range(1, 31))

BASE: dict[str, Any] = {
    "carrier": "ups",
    "name": "Test UPS",
    "account_numbers": [],
    "currency": "USD",
    "weight_unit": "lb",
    "dim_unit": "in",
    "dim_divisor": 139,
    "weight_increment": "1",
    "dim_rounding": "up",
    "calendar": {
        "country": "US",
        "subdivision": "",
        "holidays": ["2026-01-01", "2026-05-25", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"],
        "extra_holidays": [],
        "business_days": ["mon", "tue", "wed", "thu", "fri"],
        "timezone": "America/New_York",
    },
    "claims": {
        "channel": "api",
        "late_window_days": 15,
        "late_window_from": "promised",
        "loss_window_days": 60,
        "damage_window_days": 60,
        "dispute_window_days": 180,
        "lost_after_days": 10,
        "void_after_days": 10,
        "default_liability": "100.00",
        "value_claims_refund_shipping": True,
        "late_refund_charges": ["transportation"],
        "excluded_exception_reasons": ["weather", "address", "customer", "customs"],
    },
    "gsr_suspensions": [],
    "services": [
        {"code": "NDA", "name": "Next Day Air", "guaranteed": True, "transit_days": 1, "commit_time": "10:30",
         "rates": "rates/nda.csv"},
        {"code": "GND", "name": "Ground", "guaranteed": False, "transit_days": 3, "rates": "rates/gnd.csv"},
    ],
    "fuel": [{"effective": "2026-01-01", "percent": "15.00"}],
    "surcharges": {"das_postal_codes": "das/ups.txt"},
}
BASE_FILES = {"rates/nda.csv": NDA_RATES, "rates/gnd.csv": GND_RATES, "das/ups.txt": "# DAS\n10035\n99501\n"}

KG_RATES = "weight,MAINLAND,004\n" + "".join(
    f"{n / 2:g},{4 + n}.00,{5 + n}.00\n" for n in range(1, 41))   # 0.5 kg bands: 5.00, 6.00, ... 44.00
KG_BASE: dict[str, Any] = {
    **copy.deepcopy(BASE),
    "carrier": "dpd_uk",
    "name": "Test DPD",
    "currency": "GBP",
    "weight_unit": "kg",
    "dim_unit": "cm",
    "dim_divisor": 5000,
    "weight_increment": "0.5",
    "dim_rounding": "half_up",
    "services": [
        {"code": "NEXT_DAY", "name": "Next Day", "guaranteed": True, "transit_days": 1, "commit_time": "23:59",
         "rates": "rates/next_day.csv"},
    ],
    "surcharges": {"das_postal_codes": "das/dpd.txt"},
}
KG_BASE["calendar"] = {"country": "GB", "subdivision": "ENG", "holidays": [], "extra_holidays": [],
                       "business_days": ["mon", "tue", "wed", "thu", "fri"], "timezone": "Europe/London"}
KG_FILES = {"rates/next_day.csv": KG_RATES, "das/dpd.txt": "IV1\nHS\nKW15 1AB\n"}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):     # an inline table (a table inside a table)
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def to_toml(data: dict[str, Any]) -> str:
    """Enough TOML for contracts: scalars, lists, tables and arrays of tables one level deep."""
    head, tail = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tail.append(f"\n[{k}]")
            tail += [f"{kk} = {_toml_value(vv)}" for kk, vv in v.items()]
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                tail.append(f"\n[[{k}]]")
                tail += [f"{kk} = {_toml_value(vv)}" for kk, vv in item.items()]
        elif isinstance(v, list) and not v and k in ("gsr_suspensions", "services", "fuel"):
            continue
        else:
            head.append(f"{k} = {_toml_value(v)}")
    return "\n".join(head + tail) + "\n"


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        elif v is None:
            out.pop(k, None)
        else:
            out[k] = copy.deepcopy(v)
    return out


SHIP_CSV = ["tracking_number", "carrier", "service", "account_number", "ship_date", "promised_delivery",
            "origin_postal", "origin_country", "dest_postal", "dest_country", "dest_residential",
            "address_validated", "weight", "weight_unit", "length", "width", "height", "dim_unit",
            "declared_value", "item_value", "currency", "dest_timezone", "order_id", "signature"]
SCAN_CSV = ["tracking_number", "carrier", "occurred_at", "status", "carrier_status_code", "description", "city",
            "postal", "country", "exception_reason"]
LINE_CSV = ["invoice_number", "invoice_date", "carrier", "account_number", "currency", "tracking_number",
            "charge_type", "amount", "billed_weight", "weight_unit", "zone", "service", "ship_date", "reference",
            "description"]


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Kit:
    """Records of one audit case; ``contract()`` writes and loads a contract; ``run()`` audits."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.contracts_dir = root / "contracts"
        self.contracts_dir.mkdir(parents=True, exist_ok=True)
        self.ships: list[dict[str, Any]] = []
        self.scans: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []

    # ---- contracts
    def contract(self, base: dict[str, Any] | None = None, files: dict[str, str] | None = None,
                 name: str | None = None, **over: Any) -> Contract:
        data = merge(base if base is not None else BASE, over)
        fs = dict(BASE_FILES if base is None or base is BASE else KG_FILES)
        fs.update(files or {})
        for rel, text in fs.items():
            p = self.contracts_dir / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        path = self.contracts_dir / f"{name or data['carrier']}.toml"
        path.write_text(to_toml(data))
        return load_contract(path)

    def kg_contract(self, **over: Any) -> Contract:
        return self.contract(KG_BASE, **over)

    def contract_set(self) -> ContractSet:
        return load_contracts(self.contracts_dir)

    # ---- records
    def ship(self, tn: str, **kw: Any) -> dict[str, Any]:
        carrier = kw.get("carrier", "ups")
        gb = carrier == "dpd_uk"
        r: dict[str, Any] = {
            "tracking_number": tn, "carrier": carrier, "service": "NEXT_DAY" if gb else "NDA",
            "account_number": None, "ship_date": "2026-10-05", "promised_delivery": None,
            "origin_postal": None, "origin_country": None,
            "dest_postal": "IV1 3XZ" if gb else "10001", "dest_country": "GB" if gb else "US",
            "dest_residential": True, "address_validated": False, "weight": "5", "weight_unit": "kg" if gb else "lb",
            "length": None, "width": None, "height": None, "dim_unit": None,
            "declared_value": "0.00", "item_value": "250.00", "currency": "GBP" if gb else "USD",
            "dest_timezone": "Europe/London" if gb else "America/New_York", "order_id": None,
        }
        r.update(kw)
        self.ships = [s for s in self.ships if (s["carrier"], s["tracking_number"]) != (r["carrier"], tn)]
        self.ships.append(r)
        return r

    def scan(self, tn: str, at: str, status: str, reason: str | None = None, *, carrier: str = "ups",
             offset: bool = True) -> None:
        """``at`` in ISO 8601 with an offset; ``offset=False``: the source gave a UTC instant only."""
        self.scans.append({"tracking_number": tn, "carrier": carrier, "occurred_at": at, "status": status,
                           "exception_reason": reason, "keep_offset": offset})

    def line(self, tn: str, invoice: str, date: str, charge: str, amount: str, *, carrier: str = "ups",
             billed_weight: str | None = None, weight_unit: str | None = None, zone: str | None = None,
             currency: str | None = None, service: str | None = None, adjustment: str | None = None,
             description: str | None = None, account_number: str | None = None) -> None:
        """``tn`` None: an account-level line (a fee, no parcel)."""
        self.lines.append({"invoice_number": invoice, "invoice_date": date, "carrier": carrier,
                           "tracking_number": tn, "charge_type": charge, "amount": amount,
                           "billed_weight": billed_weight, "weight_unit": weight_unit, "zone": zone,
                           "currency": currency, "service": service, "adjustment": adjustment,
                           "description": description, "account_number": account_number})

    def delivered(self, tn: str, at: str, **kw: Any) -> None:
        """A usual life: label, pick-up on the ship date, delivered at ``at``."""
        ship = next(s for s in self.ships if s["tracking_number"] == tn)
        self.scan(tn, f"{ship['ship_date']}T09:00:00-04:00", "label_created", carrier=ship["carrier"])
        self.scan(tn, f"{ship['ship_date']}T17:00:00-04:00", "picked_up", carrier=ship["carrier"])
        self.scan(tn, at, "delivered", carrier=ship["carrier"], **kw)

    # ---- frames and audit
    def frames(self) -> AuditFrames:
        ships = pd.DataFrame([{
            **{k: v for k, v in s.items() if k not in ("declared_value", "item_value")},
            "declared_value_cents": None if s["declared_value"] in (None, "") else to_cents(s["declared_value"]),
            "item_value_cents": None if s["item_value"] in (None, "") else to_cents(s["item_value"]),
        } for s in self.ships])
        scans = []
        for i, e in enumerate(self.scans, start=1):
            ts = pd.Timestamp(e["occurred_at"])
            off = int(ts.utcoffset().total_seconds() // 60) if e["keep_offset"] and ts.tzinfo else None
            scans.append({"id": i, "carrier": e["carrier"], "tracking_number": e["tracking_number"],
                          "occurred_at": e["occurred_at"], "utc_offset_min": off, "status": e["status"],
                          "exception_reason": e["exception_reason"]})
        lines = []
        per_invoice: dict[str, int] = {}
        for i, ln in enumerate(self.lines, start=1):
            n = per_invoice.get(ln["invoice_number"], 0)
            per_invoice[ln["invoice_number"]] = n + 1
            lines.append({"id": i, "carrier": ln["carrier"], "tracking_number": ln["tracking_number"],
                          "invoice_number": ln["invoice_number"], "invoice_date": ln["invoice_date"], "line_no": n,
                          "charge_type": ln["charge_type"], "amount_cents": to_cents(ln["amount"]),
                          "billed_weight": ln["billed_weight"], "weight_unit": ln["weight_unit"],
                          "zone": ln["zone"], "currency": ln["currency"] or self._currency(ln),
                          "service": ln.get("service"), "adjustment": ln.get("adjustment"),
                          "description": ln.get("description"), "account_number": ln.get("account_number")})
        empty_scans = pd.DataFrame(columns=["id", "carrier", "tracking_number", "occurred_at", "utc_offset_min",
                                            "status", "exception_reason"])
        empty_lines = pd.DataFrame(columns=["id", "carrier", "tracking_number", "invoice_number", "invoice_date",
                                            "line_no", "charge_type", "amount_cents", "billed_weight",
                                            "weight_unit", "zone", "currency"])
        return prepare_frames(ships, pd.DataFrame(scans) if scans else empty_scans,
                              pd.DataFrame(lines) if lines else empty_lines)

    def _currency(self, ln: dict[str, Any]) -> str:
        return "GBP" if ln["carrier"] == "dpd_uk" else "USD"

    def run(self, as_of: str | dt.date, contracts: ContractSet | None = None) -> AuditResult:
        day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(as_of)
        return run_audit(self.frames(), contracts or self.contract_set(), day)

    def findings(self, as_of: str | dt.date, kind: str | None = None, tn: str | None = None) -> list[dict[str, Any]]:
        df = self.run(as_of).findings
        rows = df.to_dict("records")
        return [r for r in rows if (kind is None or r["kind"] == kind) and (tn is None or r["tracking_number"] == tn)]

    def one(self, as_of: str | dt.date, kind: str, tn: str | None = None) -> dict[str, Any]:
        got = self.findings(as_of, kind, tn)
        assert len(got) == 1, f"expected one {kind}, got {got}"
        return got[0]

    # ---- canonical CSV files, for the ingest service
    def write_csvs(self, folder: Path, tag: str = "") -> dict[str, list[Path]]:
        folder.mkdir(parents=True, exist_ok=True)
        out: dict[str, list[Path]] = {"shipments": [], "scans": [], "invoices": []}
        if self.ships:
            p = folder / f"shipments{tag}.csv"
            self._write(p, SHIP_CSV, self.ships)
            out["shipments"].append(p)
        if self.scans:
            p = folder / f"scans{tag}.csv"
            self._write(p, SCAN_CSV, self.scans)
            out["scans"].append(p)
        by_inv: dict[str, list[dict[str, Any]]] = {}
        for ln in self.lines:
            by_inv.setdefault(ln["invoice_number"], []).append(
                {**ln, "currency": ln["currency"] or self._currency(ln)})
        for inv, rows in by_inv.items():
            p = folder / f"invoice-{inv}{tag}.csv"
            self._write(p, LINE_CSV, rows)
            out["invoices"].append(p)
        return out

    @staticmethod
    def _write(path: Path, cols: list[str], rows: list[dict[str, Any]]) -> None:
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in rows:
                w.writerow([_csv_cell(r.get(c)) for c in cols])


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit(tmp_path)
