"""FedEx Track API v1 responses → canonical scans.

Input: a response of ``POST /track/v1/trackingnumbers`` (``output.completeTrackResults[]
.trackResults[].scanEvents[]``), or several of them as a JSON array or JSON Lines.

Mapping:

- ``date`` is ISO 8601 with the scan's UTC offset: ``occurred_at`` is the instant, ``utc_offset_min``
  the offset written. A date without an offset (seen on real pickup scans) is never rejected for
  that and never assumed UTC: its offset is that of a dated field of the same result at the same
  wall-clock time (``dateAndTimes`` ``ACTUAL_PICKUP``...), else the scan location's zone
  (codes/location_zones.csv), else another scan of the same day at the same place; failing all,
  the local time goes to the ingest service (manifest ``dest_timezone``, contract calendar). A note
  says which scans were placed so.
- ``eventType`` → status with codes/fedex_event_types.csv (FedEx's Tracking Status Codes table).
  ``OC`` (order created), ``EP`` (en route to pickup), ``CA`` (shipment cancelled) and the return-
  label link events are ``label_created``: FedEx does not have the parcel yet, so they are not
  carrier scans.
- ``exceptionCode`` → ``exception_reason`` with codes/fedex_exceptions.csv. The samples carry no
  FedEx exception-code table (only the codes seen in the sample response are listed), so a code
  the table does not know is counted in ``unknown_codes`` as ``fedex_exception:<code>`` and its
  reason is taken from FedEx's ``exceptionDescription`` with the keyword rules of
  codes/exception_keywords.csv (the same rules that classified UPS's exception texts), else None.
  ``CD`` (clearance delay) is ``customs`` by its event type.
- ``standardTransitTimeWindow.window.ends`` (the carrier's commitment) → ``extra["promised"]``
  with the offset written.

Decisions where the spec is silent:

- An unknown ``eventType`` is counted (``fedex_event:<code>``) and the scan kept as ``in_transit``
  (the table's ``*`` row): a FedEx scan is evidence that FedEx handled the parcel (void-label and
  lost rules), and ``in_transit`` claims nothing more.
- Several ``trackResults`` for one number (FedEx reuses numbers; its answer then lists each
  shipment, with distinct ``trackingNumberUniqueId``) are merged under the tracking number; an
  event present in more than one (same instant and status) is stored once, and a note says the
  number had several FedEx shipments. Each distinct commitment is a row of ``extra["promised"]``.
- A trackResult with an ``error`` (e.g. not found) is a row error naming the number. A file that is
  only a FedEx error body (``errors[]``) is refused with FedEx's code and message.
- A placeholder tracking number (empty, ``string``, template text) in both ``trackingNumberInfo``
  and the asked number is a row error naming the record.
- ``line`` is the record number: the position of the trackResult in the file (1-based).
- ``description`` is ``eventDescription``, followed by ``exceptionDescription`` when there is one.
"""

from __future__ import annotations

from collections import defaultdict
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
    dig,
    each_event,
    error_text,
    has_key,
    head_text,
    load_documents,
    parse_instant,
    placeholder_reason,
    read_bytes,
    text,
)
from recoup.shipments.codes.zones import local_to_utc, zone_for

FORMAT = "fedex"
CARRIER = "fedex"
_WHAT = "FedEx Track API"

__all__ = ["FORMAT", "parse", "parse_documents", "read", "sniff"]


def sniff(head: bytes) -> bool:
    """JSON with FedEx Track's ``completeTrackResults`` (under ``output``)."""
    body = head_text(head)
    return body is not None and has_key(body, "completeTrackResults")


def read(path: Path) -> ReadResult:
    return parse(read_bytes(path))


def parse(data: bytes, *, require_results: bool = True) -> ReadResult:
    return parse_documents(load_documents(data, _WHAT), require_results=require_results)


def parse_documents(docs: Iterable[tuple[int, Any]], *, require_results: bool = True) -> ReadResult:
    file = TrackingFile(FORMAT)
    out = file.out
    record = 0
    unique_ids: dict[str, set[str]] = defaultdict(set)
    for _, doc in file.records(docs):
        complete = dig(doc, "output", "completeTrackResults")
        if not isinstance(complete, list):
            errors = dig(doc, "errors")
            if isinstance(errors, list):
                file.error_body(doc)
                out.notes.append("FedEx error response: " + "; ".join(error_text(e) for e in errors))
            else:
                out.notes.append("skipped a JSON value that is not a FedEx Track response")
            continue
        file.responses += 1
        for ctr in complete:
            results = dig(ctr, "trackResults")
            asked = text(dig(ctr, "trackingNumber"))
            if not isinstance(results, list) or not results:
                record += 1
                out.error(record, "trackResults", f"{asked or '?'}: no trackResults")
                continue
            for result in results:
                record += 1
                own = text(dig(result, "trackingNumberInfo", "trackingNumber"))
                number = own if placeholder_reason(own) is None else asked
                if placeholder_reason(number) is not None:
                    events = dig(result, "scanEvents")
                    out.read += len(events) if isinstance(events, list) else 0
                    out.error(record, "trackingNumberInfo.trackingNumber",
                              f"record {record}: refused, {placeholder_reason(own) or placeholder_reason(asked)}")
                    continue
                assert number is not None
                unique = text(dig(result, "trackingNumberInfo", "trackingNumberUniqueId"))
                if unique:
                    unique_ids[number].add(unique)
                _result(result, number, record, out)
    detail = f": {out.notes[0]}" if out.notes else ""
    file.refuse_if_empty(require_results,
                         f"no FedEx Track API response (output.completeTrackResults) in the file{detail}")
    for number, ids in sorted(unique_ids.items()):
        if len(ids) > 1:
            out.notes.append(f"{number}: FedEx answered with {len(ids)} shipments under this number "
                             f"({', '.join(sorted(ids))}); their events are merged")
    return file.result()


def _result(result: Mapping[str, Any], number: str, record: int, out: ScanCollector) -> None:
    if isinstance(result.get("error"), Mapping):
        out.error(record, "error", f"{number}: {error_text(result['error'])}")
        return
    events = result.get("scanEvents") or []
    if not isinstance(events, list):
        out.error(record, "scanEvents", f"{number}: not a list")
        events = []
    known = _known_offsets(result, events)
    for where, event in each_event(out, record, number, events, "scanEvents"):
        mapped = _status(event, out)
        if mapped is None:
            continue
        status, reason = mapped
        raw_location = event.get("scanLocation")
        location: Mapping[str, Any] = raw_location if isinstance(raw_location, Mapping) else {}
        local_time = None
        occurred_at: pd.Timestamp | None
        try:
            occurred_at, offset = parse_instant(event.get("date"), naive_is_utc=False)
        except ValueError as exc:
            local = _naive(event.get("date"))
            if local is None:
                out.error(record, f"{where}.date", f"{number}: {exc}")
                continue
            occurred_at, offset, local_time = _place(local, location, known)
            out.notes.append(f"record {record} {where}: date {event.get('date')!r} has no UTC offset; "
                             + (f"took {offset:+d} min from the same result" if offset is not None
                                else "left to the manifest's time zone"))
        description = text(event.get("eventDescription"))
        exception_text = text(event.get("exceptionDescription"))
        if exception_text:
            description = f"{description}: {exception_text}" if description else exception_text
        out.add(
            tracking_number=number, carrier=CARRIER, status=status, line=record,
            occurred_at=occurred_at, utc_offset_min=offset, local_time=local_time,
            carrier_status_code=text(event.get("eventType")), description=description,
            city=text(dig(location, "city")), postal=text(dig(location, "postalCode")),
            country=text(dig(location, "countryCode")), exception_reason=reason,
        )
    ends = dig(result, "standardTransitTimeWindow", "window", "ends")
    if ends not in (None, ""):
        try:
            promised, offset = parse_instant(ends, naive_is_utc=False)
        except ValueError as exc:
            out.error(record, "standardTransitTimeWindow.window.ends", f"{number}: {exc}")
        else:
            out.add_promised(tracking_number=number, carrier=CARRIER, promised=promised, utc_offset_min=offset)


def _naive(value: Any) -> pd.Timestamp | None:
    """A date-time written without an offset ("2024-04-24T16:05:00"), or None."""
    raw = text(value)
    if raw is None or len(raw) <= 10:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return None if moment.utcoffset() is not None else pd.Timestamp(moment)


def _place_key(location: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple((text(location.get(k)) or "").upper() for k in ("city", "stateOrProvinceCode", "postalCode"))


_Known = list[tuple[pd.Timestamp, int, tuple[str, ...] | None]]


def _known_offsets(result: Mapping[str, Any], events: list[Any]) -> _Known:
    """(local wall-clock time, offset, place or None) of every dated field of the result that has an
    offset: its dateAndTimes and its scan events. ``SHIP`` (a date at midnight, often in another
    zone) is left out."""
    known: _Known = []
    for item in result.get("dateAndTimes") or []:
        if isinstance(item, Mapping) and text(item.get("type")) != "SHIP":
            _add_known(known, item.get("dateTime"), None)
    for event in events:
        if isinstance(event, Mapping):
            raw_location = event.get("scanLocation")
            place = _place_key(raw_location) if isinstance(raw_location, Mapping) else ("", "", "")
            _add_known(known, event.get("date"), place)
    return known


def _add_known(known: _Known, value: Any, place: tuple[str, ...] | None) -> None:
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        return
    offset = moment.utcoffset()
    if offset is not None:
        known.append((pd.Timestamp(moment.replace(tzinfo=None)), int(offset.total_seconds() // 60), place))


def _place(local: pd.Timestamp, location: Mapping[str, Any], known: _Known
           ) -> tuple[pd.Timestamp | None, int | None, pd.Timestamp | None]:
    """(instant, offset, None) for a scan date without an offset, or (None, None, local) when nothing
    in the result or the place tells: 1. a dated field of the result at the same wall-clock time
    (FedEx's ACTUAL_PICKUP for a pickup scan); 2. the scan location's zone (codes/location_zones.csv);
    3. another scan of the same day at the same place."""
    offset = next((o for t, o, _ in known if t == local), None)
    if offset is None:
        zone = zone_for(text(location.get("countryCode")), text(location.get("stateOrProvinceCode")),
                        text(location.get("postalCode")))
        if zone is not None:
            instant, minutes = local_to_utc(local, zone)
            return instant, minutes, None
        place = _place_key(location)
        if any(place):
            offset = next((o for t, o, p in known if p == place and t.date() == local.date()), None)
    if offset is None:
        return None, None, local
    return (local - pd.Timedelta(minutes=offset)).tz_localize("UTC"), offset, None


def _status(event: Mapping[str, Any], out: ScanCollector) -> tuple[str, str | None] | None:
    types = table("fedex_event_types.csv")
    code = text(event.get("eventType")) or ""
    row = types.get(code)
    if row is None:
        out.unknown[f"fedex_event:{code or '(empty)'}"] += 1
        row = types.get(UNKNOWN)
        if row is None:   # pragma: no cover - the table has a * row
            return None
    if row["status"] == NOT_A_SCAN:
        out.not_scans[code] += 1
        return None
    reason = row["exception_reason"] or None
    exception_code = text(event.get("exceptionCode"))
    if exception_code:
        known = table("fedex_exceptions.csv").get(exception_code)
        if known is not None:
            reason = known["exception_reason"] or reason
        else:
            out.unknown[f"fedex_exception:{exception_code}"] += 1
            reason = reason_from_text(text(event.get("exceptionDescription"))) or reason
    return row["status"], reason


READER = Format("fedex", "scans", sniff, read)
