"""Canonical CSV readers: the merchant's shipments manifest and tracking scans (formats.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from recoup.ingest.base import SCAN_COLUMNS, ReadResult
from recoup.ingest.csvutil import Checker, column_notes, header_of, load_csv, none_if_empty
from recoup.ingest.reader import Format
from recoup.ingest.stream import CHUNK_BYTES, CsvChunks
from recoup.money import VALUE_LIMIT_CENTS
from recoup.shipments.codes.jsonscans import placeholder_reason
from recoup.vocabulary import EXCEPTION_REASONS, SCAN_STATUSES

SHIPMENT_REQUIRED = ["tracking_number", "carrier", "service", "ship_date", "dest_postal", "dest_country"]
SHIPMENT_OPTIONAL = [
    "account_number", "promised_delivery", "origin_postal", "origin_country", "dest_residential",
    "address_validated", "weight", "weight_unit", "length", "width", "height", "dim_unit",
    "declared_value", "item_value", "currency", "dest_timezone", "order_id", "signature",
]
SIGNATURES = {"none", "direct", "adult"}     # the signature option the label bought (the signature rule)
SCAN_REQUIRED = ["tracking_number", "carrier", "occurred_at", "status"]
SCAN_OPTIONAL = ["carrier_status_code", "description", "city", "postal", "country", "exception_reason"]


def sniff_shipments(head: bytes) -> bool:
    h = header_of(head)
    return all(c in h for c in ("tracking_number", "carrier", "service", "ship_date"))


def sniff_scans(head: bytes) -> bool:
    h = header_of(head)
    return all(c in h for c in SCAN_REQUIRED)


def _ensure(df: pd.DataFrame, cols: list[str]) -> None:
    for c in cols:
        if c not in df.columns:
            df[c] = ""


def read_shipments(path: Path) -> ReadResult:
    df = load_csv(path, SHIPMENT_REQUIRED, "shipments", SHIPMENT_OPTIONAL)
    _ensure(df, SHIPMENT_OPTIONAL)
    ck = Checker(df)
    ck.required(*SHIPMENT_REQUIRED)
    carrier = df["carrier"].str.lower()
    ship = ck.date("ship_date")
    _, _ = ck.instant("promised_delivery")   # validated; kept as written
    ck.choice("weight_unit", {"lb", "kg"})
    ck.choice("dim_unit", {"in", "cm"})
    ck.choice("signature", SIGNATURES)
    out = pd.DataFrame({
        "tracking_number": df["tracking_number"],
        "carrier": carrier,
        "service": df["service"],
        "account_number": none_if_empty(df["account_number"]),
        "ship_date": ship,
        "promised_delivery": none_if_empty(df["promised_delivery"]),
        "origin_postal": none_if_empty(df["origin_postal"]),
        "origin_country": none_if_empty(df["origin_country"].str.upper()),
        "dest_postal": df["dest_postal"],
        "dest_country": df["dest_country"].str.upper(),
        "dest_residential": ck.boolean("dest_residential"),
        "address_validated": ck.boolean("address_validated"),
        "weight": ck.decimal_text("weight"),
        "weight_unit": none_if_empty(df["weight_unit"].str.lower()),
        "length": ck.decimal_text("length"),
        "width": ck.decimal_text("width"),
        "height": ck.decimal_text("height"),
        "dim_unit": none_if_empty(df["dim_unit"].str.lower()),
        "declared_value_cents": ck.cents("declared_value", limit=VALUE_LIMIT_CENTS, non_negative=True).where(df["declared_value"] != "", None),
        "item_value_cents": ck.cents("item_value", limit=VALUE_LIMIT_CENTS, non_negative=True).where(df["item_value"] != "", None),
        "currency": none_if_empty(df["currency"].str.upper()),
        "dest_timezone": ck.timezone("dest_timezone"),
        "order_id": none_if_empty(df["order_id"]),
        "signature": none_if_empty(df["signature"].str.lower()),
        "line": df["line"],
    })
    has_w = out["weight"].notna()
    ck.flag(has_w & out["weight_unit"].isna(), "weight_unit", "a weight needs its unit (lb or kg)")
    has_d = out["length"].notna() | out["width"].notna() | out["height"].notna()
    ck.flag(has_d & out["dim_unit"].isna(), "dim_unit", "dimensions need their unit (in or cm)")
    dup = out.duplicated(["carrier", "tracking_number"], keep="last")
    # a parcel listed twice in one file: the later row wins, as a re-sent manifest row would
    good = out.loc[~ck.bad & ~dup.to_numpy()]
    return ReadResult("canonical", good.reset_index(drop=True), read=len(df), errors=ck.errors,
                      notes=column_notes(df, "shipments"))


def read_scans(path: Path) -> ReadResult:
    return _scans_of(load_csv(path, SCAN_REQUIRED, "scans", SCAN_OPTIONAL), notes=True)


def read_scans_chunks(path: Path, *, chunk_bytes: int = CHUNK_BYTES,
                      on_bytes: Callable[[int], None] | None = None) -> Iterator[ReadResult]:
    """:func:`read_scans` in blocks of about ``chunk_bytes`` (bounded memory, issue 17): each block's
    result holds what ``read_scans`` gives for those records (rows, row errors with the file's line
    numbers); the column notes come with the first block."""
    first = True
    for df in CsvChunks(path, SCAN_REQUIRED, "scans", SCAN_OPTIONAL, chunk_bytes=chunk_bytes, on_bytes=on_bytes):
        yield _scans_of(df, notes=first)
        first = False


def _maybe_placeholders(numbers: pd.Series) -> list[str]:
    """The distinct tracking numbers ``placeholder_reason`` must judge: letters and digits with at
    least one digit are never template text nor a placeholder word, only maybe one repeated character
    (``1111``), which is checked here; so the per-value check runs on the few others (issue 17)."""
    uniq = pd.Series(numbers.unique(), dtype="str")
    uniq = uniq[uniq != ""]
    plain = uniq.str.fullmatch(r"[0-9A-Za-z]*[0-9][0-9A-Za-z]*").to_numpy(dtype=bool)
    values = uniq.tolist()
    return [v for v, ok in zip(values, plain, strict=True) if not ok or len(set(v.upper())) == 1]


def _scans_of(df: pd.DataFrame, *, notes: bool) -> ReadResult:
    _ensure(df, SCAN_OPTIONAL)
    ck = Checker(df)
    ck.required(*SCAN_REQUIRED)
    # placeholders ("<Inquiry Number>", "string", template text): refused per row (issue 11);
    # checked once per distinct number, not per row
    numbers = df["tracking_number"]
    verdict = {v: placeholder_reason(v) for v in _maybe_placeholders(numbers)}
    reasons = numbers.map(verdict).astype(object)
    bad_number = reasons.notna()
    ck.flag(bad_number, "tracking_number", reasons.where(bad_number, ""))
    status = ck.choice("status", SCAN_STATUSES)
    reason = ck.choice("exception_reason", EXCEPTION_REASONS)
    utc, offset = ck.instant("occurred_at")
    out = pd.DataFrame({
        "tracking_number": df["tracking_number"],
        "carrier": df["carrier"].str.lower(),
        "occurred_at": utc,
        "local_time": pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]"),
        "utc_offset_min": offset,
        "status": status,
        "carrier_status_code": none_if_empty(df["carrier_status_code"]),
        "description": none_if_empty(df["description"]),
        "city": none_if_empty(df["city"]),
        "postal": none_if_empty(df["postal"]),
        "country": none_if_empty(df["country"].str.upper()),
        "exception_reason": none_if_empty(reason),
        "line": df["line"],
    })
    return ReadResult("canonical", out.loc[~ck.bad, SCAN_COLUMNS].reset_index(drop=True), read=len(df),
                      errors=ck.errors, notes=column_notes(df, "scans") if notes else [])


SHIPMENTS = Format("canonical", "shipments", sniff_shipments, read_shipments)
SCANS = Format("canonical", "scans", sniff_scans, read_scans)
