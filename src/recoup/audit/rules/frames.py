"""The audit's inputs and output: the frames ``run_audit`` reads (``prepare_frames`` builds them from
store rows), the finding columns it returns (``AuditResult``), and the scans it needs
(``relevant_scans``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recoup.audit.rules._vector import _txt
from recoup.vocabulary import CHARGE_KINDS, PARCEL_KINDS

SERVICE_KINDS = PARCEL_KINDS   # judged per parcel, the first that applies (recoup.vocabulary)
BILLING_KINDS = CHARGE_KINDS   # the billing kinds of spec/audits.md (recoup.vocabulary)
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
    the windows of findings (their deadlines) are the other thing time changes.

    With ``run_audit(..., trace=True)`` (``recoup explain``), the verdicts the rules returned: per parcel
    ((carrier, tracking number) -> kind -> verdict) for the kinds judged per parcel, and per invoice
    line (line id -> kind -> verdict); a verdict reads "yes: ...", "no: ..." or "not judged: ..."."""

    findings: pd.DataFrame
    warnings: Counter[str] = field(default_factory=Counter)
    audited: int = 0
    recheck: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RECHECK_COLUMNS))
    parcel_verdicts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    line_verdicts: dict[int, dict[str, Any]] = field(default_factory=dict)


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
    # no .copy(): the columns replaced below are assigned, never written into, so the caller's frames
    # keep theirs; under pandas 3's copy-on-write the columns kept are shared, not held twice (a full
    # worker's frames were)
    ships = shipments.reindex(columns=SHIPMENT_FIELDS)
    sc = scans.reindex(columns=SCAN_FIELDS)
    ln = lines.reindex(columns=LINE_FIELDS)
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


