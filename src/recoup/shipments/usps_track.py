"""USPS Tracking 3.0 API responses → canonical scans.

Input: a response of ``GET /tracking/v3/tracking/{trackingNumber}?expand=DETAIL`` — one object with
``trackingNumber`` and ``trackingEvents[]`` — or several as a JSON array or JSON Lines. Each event
has ``eventType`` (USPS's text, e.g. "Delivered, In/At Mailbox"), ``eventCode``, ``eventTimestamp``
(local wall-clock time of the scan), ``GMTTimestamp`` and ``GMTOffset``, ``eventCity``,
``eventState``, ``eventZIP`` and ``eventCountry`` (empty for domestic scans).

Mapping:

- Time as for UPS Track: ``GMTTimestamp`` (UTC) is the instant and ``GMTOffset`` (``-05:00``) the
  local offset; they win. Without ``GMTOffset`` the offset is the difference between
  ``eventTimestamp`` and ``GMTTimestamp``; without ``GMTTimestamp`` the instant is
  ``eventTimestamp`` minus ``GMTOffset``; without both, ``eventTimestamp`` is placed in the zone of
  the scan's place (codes/location_zones.csv: country, else US, and state/ZIP), else handed to the
  ingest service as local time (manifest ``dest_timezone``, contract calendar). Never UTC by
  assumption. An ``eventTimestamp`` that carries its own offset is used as written.
- ``eventCode`` → status and reason with codes/usps_event_codes.csv. An unknown code is counted
  (``usps_event:<code>``) and the status read from ``eventType`` with codes/usps_event_types.csv
  (ordered patterns), else kept as ``in_transit`` (the ``*`` row).
- ``exception_reason``: the table's, else, for an exception or attempted delivery, from the
  ``eventType`` text by codes/exception_keywords.csv (the rules the other readers use).

Decisions where the spec is silent:

- ``trackingNumber`` that is a placeholder (empty, ``string``, template text) is a row error
  naming the record; its events are not stored.
- USPS's predicted or guaranteed delivery fields are not read as commitments (the spec names none
  for USPS).
- ``line`` is the record number: the position of the response in the file (1-based).
- A USPS error body (``{"apiVersion", "error": {"code", "message", "errors"}}``) alone is refused
  with USPS's code and message (shipments/carrier_errors.py when auto-detected).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from recoup.ingest.base import ReadResult
from recoup.ingest.reader import Format
from recoup.shipments.codes import NOT_A_SCAN, UNKNOWN, reason_from_text, table
from recoup.shipments.codes.jsonscans import (
    ScanCollector,
    TrackingFile,
    each_event,
    error_reason,
    has_key,
    head_text,
    load_documents,
    placeholder_reason,
    read_bytes,
    refuse_number,
    text,
    utc_offset,
)
from recoup.shipments.codes.zones import local_to_utc, zone_for

FORMAT = "usps"
CARRIER = "usps"
_WHAT = "USPS Tracking API"

__all__ = ["FORMAT", "parse", "parse_documents", "read", "sniff"]


def sniff(head: bytes) -> bool:
    """JSON with USPS Tracking 3.0's ``trackingEvents`` beside ``trackingNumber``."""
    body = head_text(head)
    if body is None or has_key(body, "trackResponse") or has_key(body, "completeTrackResults"):
        return False
    return has_key(body, "trackingEvents") and has_key(body, "trackingNumber")


def read(path: Path) -> ReadResult:
    return parse(read_bytes(path))


def parse(data: bytes, *, require_results: bool = True) -> ReadResult:
    return parse_documents(load_documents(data, _WHAT), require_results=require_results)


def parse_documents(docs: Iterable[tuple[int, Any]], *, require_results: bool = True) -> ReadResult:
    file = TrackingFile(FORMAT)
    out = file.out
    for record, doc in file.records(docs):
        if isinstance(doc, Mapping) and isinstance(doc.get("trackingEvents"), list):
            file.responses += 1
            _response(doc, record, out)
            continue
        body = file.error_body(doc)
        if body is not None:
            out.error(record, "error", error_reason(*body))
        else:
            out.notes.append("skipped a JSON value that is not a USPS Tracking response")
    file.refuse_if_empty(require_results,
                         "no USPS Tracking API response (trackingNumber with trackingEvents) in the file")
    return file.result()


def _response(doc: Mapping[str, Any], record: int, out: ScanCollector) -> None:
    events = doc["trackingEvents"]
    number = text(doc.get("trackingNumber"))
    bad = placeholder_reason(number)
    if number is None or bad is not None:
        refuse_number(out, record, "trackingNumber", bad, events)
        return
    for where, event in each_event(out, record, number, events, "trackingEvents"):
        mapped = _status(event, out)
        if mapped is None:
            continue
        status, reason = mapped
        country = text(event.get("eventCountry")) or "US"
        try:
            occurred_at, offset, local_time = _when(event, country)
        except ValueError as exc:
            column = next((c for c in ("GMTTimestamp", "GMTOffset") if str(exc).startswith(c)), "eventTimestamp")
            out.error(record, f"{where}.{column}", f"{number}: {exc}")
            continue
        out.add(
            tracking_number=number, carrier=CARRIER, status=status, line=record,
            occurred_at=occurred_at, utc_offset_min=offset, local_time=local_time,
            carrier_status_code=text(event.get("eventCode")), description=text(event.get("eventType")),
            city=text(event.get("eventCity")), postal=text(event.get("eventZIP")) or text(event.get("eventZIPCode")),
            country=country, exception_reason=reason,
        )


def _when(event: Mapping[str, Any], country: str
          ) -> tuple[pd.Timestamp | None, int | None, pd.Timestamp | None]:
    raw_offset = text(event.get("GMTOffset"))
    offset = utc_offset(raw_offset, "GMTOffset") if raw_offset else None
    gmt = text(event.get("GMTTimestamp"))
    local_raw = text(event.get("eventTimestamp"))
    local: pd.Timestamp | None = None
    if local_raw:
        moment = _iso(local_raw, "eventTimestamp")
        if moment.utcoffset() is not None:
            minutes = int(moment.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
            return pd.Timestamp(moment).tz_convert("UTC"), minutes, None
        local = pd.Timestamp(moment)
    if gmt:
        instant = _iso(gmt, "GMTTimestamp")
        utc = pd.Timestamp(instant).tz_convert("UTC") if instant.utcoffset() is not None \
            else pd.Timestamp(instant).tz_localize("UTC")
        if offset is None and local is not None:
            offset = round((local - utc.tz_localize(None)).total_seconds() / 900) * 15
        return utc, offset, None
    if local is None:
        raise ValueError("eventTimestamp missing (and no GMTTimestamp)")
    if offset is not None:
        return (local - pd.Timedelta(minutes=offset)).tz_localize("UTC"), offset, None
    zone = zone_for(country, text(event.get("eventState")), text(event.get("eventZIP")) or text(event.get("eventZIPCode")))
    if zone is not None:
        instant_utc, minutes = local_to_utc(local, zone)
        return instant_utc, minutes, None
    return None, None, local


def _iso(value: str, field: str) -> datetime:
    raw = value.strip()
    if len(raw) <= 10:
        raise ValueError(f"{field} is a date without a time: {raw!r}")
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{field} is not an ISO 8601 date-time: {raw!r}") from exc


def _status(event: Mapping[str, Any], out: ScanCollector) -> tuple[str, str | None] | None:
    codes = table("usps_event_codes.csv")
    code = text(event.get("eventCode")) or ""
    kind = text(event.get("eventType"))
    row = codes.get(code) if code else None
    if row is None:
        out.unknown[f"usps_event:{code or '(empty)'}"] += 1
        row = _by_text(kind) or codes.get(UNKNOWN)
        if row is None:   # pragma: no cover - the table has a * row
            return None
    if row["status"] == NOT_A_SCAN:
        out.not_scans[f"USPS {code}"] += 1
        return None
    status, reason = row["status"], row["exception_reason"] or None
    if reason is None and status in ("exception", "delivery_attempted"):
        reason = reason_from_text(kind)
    return status, reason


def _by_text(kind: str | None) -> dict[str, str] | None:
    if not kind:
        return None
    for pattern, row in table("usps_event_types.csv").rows.items():
        if re.search(pattern, kind, re.IGNORECASE):
            return dict(row)
    return None


READER = Format("usps", "scans", sniff, read)
