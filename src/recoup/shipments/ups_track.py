"""UPS Track API responses → canonical scans.

Input: a response of ``GET /api/track/v1/details/{inquiryNumber}`` (``trackResponse.shipment[]
.package[].activity[]``), or several as a JSON array or JSON Lines.

Mapping:

- Time: ``gmtDate`` (``YYYYMMDD``), ``gmtTime`` (``HH:MM:SS``) and ``gmtOffset`` (``-05:00``), which
  real responses carry on each activity, state the instant (``occurred_at``) and the local offset
  (``utc_offset_min``) and win (formats.md). Without them, ``date``/``time`` are local wall-clock
  time without an offset, resolved in the zone of the scan's ``location.address`` (country, state,
  postal code: codes/location_zones.csv); when the place does not name one zone, ``local_time``
  (naive) is handed to the ingest service, which resolves it in the manifest's ``dest_timezone``,
  else the contract's calendar zone. Never assumed UTC.
- ``status.type`` → status with codes/ups_activity_types.csv: ``D`` delivered, ``I`` in transit,
  ``P`` pickup (``picked_up``), ``X`` exception, ``M``/``MV`` (billing information received /
  voided) ``label_created`` (not carrier scans), freight ``DO``/``DD``/``W`` in transit; ``NA`` and
  ``U`` (Track Alert updates) are not scans (counted in the notes).
- ``I`` is refined by ``status.statusCode`` with codes/ups_status_codes.csv (UPS's
  Status/Description codes: out for delivery, picked up, ready for pickup, returned to sender);
  when that says nothing, by ``status.code`` with codes/ups_movement_codes.csv (UPS's Movement
  Scans, Manifest and Updates codes: ``OT``/``OF`` out for delivery, ``PU``/``OR``/``XD`` picked
  up, ``PL``/``OC`` label only; an unknown one is counted as ``ups_movement:<code>``); then a
  ``status.description`` containing "out for delivery" makes it ``out_for_delivery``.
- ``X``: ``exception_reason`` from ``status.code`` in codes/ups_exceptions.csv (UPS's Package
  Exceptions table), then codes/ups_delivery_codes.csv (UPS's Delivery Codes, the other namespace
  UPS uses for non-deliveries). Their reasons were derived from UPS's own texts by the keyword rules
  of codes/exception_keywords.csv, with manual corrections noted in their ``basis`` column.

Decisions where the spec is silent:

- An unknown ``status.type`` is counted (``ups_type:<t>``) and kept as ``in_transit`` (the table's
  ``*`` row: a UPS activity is evidence that UPS handled the parcel). An unknown ``statusCode`` is
  counted (``ups_status:<n>``) and refines nothing. An unknown exception code is counted
  (``ups_exception:<code>``) and its reason taken from UPS's description by the keyword rules.
- The tracking number is ``package.trackingNumber`` when it looks like one (letters and digits,
  at least one digit, 8 or more characters), else the shipment's ``inquiryNumber`` with a note
  (UPS's OpenAPI example carries the placeholder ``"string"``). When neither is a tracking number
  (empty, ``<Inquiry Number>``, ``string``: jsonscans.placeholder_reason) the package is a row error
  naming the record and the reason.
- ``gmtDate``/``gmtTime`` without ``gmtOffset``: the offset is the difference to the local
  ``date``/``time``; ``gmtOffset`` alone: the instant is the local time minus that offset.
  Malformed ``gmt*`` values are a row error (they would otherwise be silently ignored).
- UPS commitments (``deliveryDate``/``deliveryTime``) are not read: the spec names none for UPS.
- ``line`` is the record number: the position of the package in the file (1-based).
- A response with ``response.errors`` (e.g. tracking number not found) and no results is refused
  with UPS's code and message; in a file that also holds results it is a row error per error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from recoup.ingest.base import ReadResult
from recoup.ingest.reader import Format
from recoup.shipments.codes import NOT_A_SCAN, UNKNOWN, reason_from_text, table
from recoup.shipments.codes.jsonscans import (
    ScanCollector,
    TrackingFile,
    dig,
    each_event,
    error_text,
    has_key,
    head_text,
    load_documents,
    placeholder_reason,
    read_bytes,
    text,
    utc_offset,
)
from recoup.shipments.codes.zones import local_to_utc, zone_for

FORMAT = "ups"
CARRIER = "ups"
_WHAT = "UPS Track API"
_TRACKING_NUMBER = re.compile(r"^(?=.*\d)[A-Z0-9]{8,40}$", re.IGNORECASE)
_DATE = re.compile(r"^\d{8}$")
_TIME = re.compile(r"^\d{6}$")
_GMT_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")
_GMT_TIME = re.compile(r"^(\d{2}):?(\d{2}):?(\d{2})$")

__all__ = ["FORMAT", "parse", "parse_documents", "read", "sniff"]


def sniff(head: bytes) -> bool:
    """JSON with UPS Track's ``trackResponse``."""
    body = head_text(head)
    return body is not None and has_key(body, "trackResponse")


def read(path: Path) -> ReadResult:
    return parse(read_bytes(path))


def parse(data: bytes, *, require_results: bool = True) -> ReadResult:
    return parse_documents(load_documents(data, _WHAT), require_results=require_results)


def parse_documents(docs: Iterable[tuple[int, Any]], *, require_results: bool = True) -> ReadResult:
    file = TrackingFile(FORMAT)
    out = file.out
    record = 0
    for doc_record, doc in file.records(docs):
        shipments = dig(doc, "trackResponse", "shipment")
        if not isinstance(shipments, list):
            errors = dig(doc, "response", "errors")
            if isinstance(errors, list):
                file.error_body(doc)
                for error in errors:
                    out.error(doc_record, "response.errors", f"UPS: {error_text(error)}")
            else:
                out.notes.append("skipped a JSON value that is not a UPS Track response")
            continue
        file.responses += 1
        for shipment in shipments:
            inquiry = text(dig(shipment, "inquiryNumber"))
            for warning in dig(shipment, "warnings") or []:
                out.notes.append(f"UPS warning for {inquiry or '?'}: {error_text(warning)}")
            packages = dig(shipment, "package")
            if not isinstance(packages, list):
                continue
            for package in packages:
                record += 1
                _package(package, inquiry, record, out)
    file.refuse_if_empty(require_results, "no UPS Track API response (trackResponse.shipment) in the file")
    return file.result()


def _tracking_number(package: Mapping[str, Any], inquiry: str | None, record: int,
                     out: ScanCollector) -> str | None:
    own = text(package.get("trackingNumber"))
    if own and _TRACKING_NUMBER.match(own) and placeholder_reason(own) is None:
        return own
    if inquiry and placeholder_reason(inquiry) is None:
        if own:
            out.notes.append(f"record {record}: package trackingNumber {own!r} is not a tracking number; "
                             f"used the inquiry number {inquiry}")
        return inquiry
    reason = placeholder_reason(own) or placeholder_reason(inquiry) or f"not a tracking number: {own!r}"
    out.error(record, "trackingNumber", f"record {record}: refused, {reason}")
    return None


def _package(package: Any, inquiry: str | None, record: int, out: ScanCollector) -> None:
    if not isinstance(package, Mapping):
        out.error(record, "package", "not an object")
        return
    number = _tracking_number(package, inquiry, record, out)
    activities = package.get("activity") or []
    if not isinstance(activities, list):
        out.error(record, "activity", f"{number}: not a list")
        return
    if number is None:
        out.read += len(activities)
        return
    for where, activity in each_event(out, record, number, activities, "activity"):
        raw_status = activity.get("status")
        status_obj: Mapping[str, Any] = raw_status if isinstance(raw_status, Mapping) else {}
        mapped = _status(status_obj, out)
        if mapped is None:
            continue
        status, reason = mapped
        address = dig(activity, "location", "address")
        address = address if isinstance(address, Mapping) else {}
        try:
            when = _when(activity, address)
        except ValueError as exc:
            column = next((c for c in ("gmtDate", "gmtTime", "gmtOffset", "date", "time")
                           if str(exc).startswith(c)), "date")
            out.error(record, f"{where}.{column}", f"{number}: {exc}")
            continue
        occurred_at, offset, local_time = when
        out.add(
            tracking_number=number, carrier=CARRIER, status=status, line=record,
            occurred_at=occurred_at, utc_offset_min=offset,
            local_time=local_time, carrier_status_code=text(status_obj.get("code")),
            description=text(status_obj.get("description")),
            city=text(address.get("city")), postal=text(address.get("postalCode")),
            country=text(address.get("countryCode")) or text(address.get("country")),
            exception_reason=reason,
        )


def _when(activity: Mapping[str, Any], address: Mapping[str, Any]
          ) -> tuple[pd.Timestamp | None, int | None, pd.Timestamp | None]:
    """(UTC instant, offset minutes, None) when the activity or its place says the offset; else
    (None, None, local wall-clock time) for the ingest service to resolve. Raises ValueError."""
    gmt_date, gmt_time = text(activity.get("gmtDate")), text(activity.get("gmtTime"))
    gmt_offset = text(activity.get("gmtOffset"))
    offset = utc_offset(gmt_offset, "gmtOffset") if gmt_offset else None
    if gmt_date or gmt_time:
        instant = _gmt_instant(gmt_date, gmt_time)
        if offset is None:
            try:
                local = _local_time(activity.get("date"), activity.get("time"))
            except ValueError as exc:
                raise ValueError(f"gmtOffset missing and the local time unusable ({exc})") from None
            offset = round((local - instant.tz_localize(None)).total_seconds() / 900) * 15
        return instant, offset, None
    local = _local_time(activity.get("date"), activity.get("time"))
    if offset is not None:
        return (local - pd.Timedelta(minutes=offset)).tz_localize("UTC"), offset, None
    zone = zone_for(text(address.get("countryCode")) or text(address.get("country")),
                    text(address.get("stateProvince")), text(address.get("postalCode")))
    if zone is not None:
        instant, minutes = local_to_utc(local, zone)
        return instant, minutes, None
    return None, None, local


def _gmt_instant(date: str | None, time: str | None) -> pd.Timestamp:
    d = _GMT_DATE.match(date or "")
    if d is None:
        raise ValueError(f"gmtDate is not YYYYMMDD: {date!r}" if date else "gmtDate missing (gmtTime given)")
    t = _GMT_TIME.match(time or "")
    if t is None:
        raise ValueError(f"gmtTime is not HH:MM:SS: {time!r}" if time else "gmtTime missing (gmtDate given)")
    try:
        return pd.Timestamp(f"{d[1]}-{d[2]}-{d[3]}T{t[1]}:{t[2]}:{t[3]}", tz="UTC")
    except ValueError as exc:
        raise ValueError(f"gmtDate {date} gmtTime {time} is not a valid date and time") from exc


def _local_time(date: Any, time: Any) -> pd.Timestamp:
    d, t = text(date), text(time)
    if d is None or not _DATE.match(d):
        raise ValueError(f"date is not YYYYMMDD: {d!r}" if d else "date missing")
    if t is None or not _TIME.match(t):
        raise ValueError(f"time is not HHMMSS: {t!r}" if t else "time missing")
    try:
        return pd.Timestamp(f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:]}")
    except ValueError as exc:
        raise ValueError(f"date {d} time {t} is not a valid date and time") from exc


def _status(status: Mapping[str, Any], out: ScanCollector) -> tuple[str, str | None] | None:
    types = table("ups_activity_types.csv")
    kind = text(status.get("type")) or ""
    row = types.get(kind)
    if row is None:
        out.unknown[f"ups_type:{kind or '(empty)'}"] += 1
        row = types.get(UNKNOWN)
        if row is None:   # pragma: no cover - the table has a * row
            return None
    if row["status"] == NOT_A_SCAN:
        out.not_scans[f"UPS type {kind}"] += 1
        return None
    canonical, reason = row["status"], None
    upper = kind.upper()
    if upper == "I":
        canonical = _refine_in_transit(status, out) or canonical
    elif upper == "X":
        reason = _exception_reason(status, out)
    return canonical, reason


def _refine_in_transit(status: Mapping[str, Any], out: ScanCollector) -> str | None:
    code = text(status.get("statusCode"))
    if code:
        row = table("ups_status_codes.csv").get(code)
        if row is None:
            out.unknown[f"ups_status:{code}"] += 1
        elif row["status"]:
            return row["status"]
    movement = text(status.get("code"))
    if movement:
        row = table("ups_movement_codes.csv").get(movement)
        if row is None:
            out.unknown[f"ups_movement:{movement}"] += 1
        elif row["status"]:
            return row["status"]
    description = text(status.get("description")) or ""
    if "out for delivery" in description.lower():
        return "out_for_delivery"
    return None


def _exception_reason(status: Mapping[str, Any], out: ScanCollector) -> str | None:
    code = text(status.get("code"))
    if not code:
        return reason_from_text(text(status.get("description")))
    for name in ("ups_exceptions.csv", "ups_delivery_codes.csv"):
        row = table(name).get(code)
        if row is not None:
            return row["exception_reason"] or None
    out.unknown[f"ups_exception:{code}"] += 1
    return reason_from_text(text(status.get("description")))


READER = Format("ups", "scans", sniff, read)
