"""FedEx Track API v1 responses → canonical scans.

Input: a response of ``POST /track/v1/trackingnumbers`` (``output.completeTrackResults[]
.trackResults[].scanEvents[]``), or several of them as a JSON array or JSON Lines.

Mapping:

- ``date`` is ISO 8601 with the scan's UTC offset: ``occurred_at`` is the instant, ``utc_offset_min``
  the offset written. A date without an offset is a row error (never assumed UTC).
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
- A trackResult with an ``error`` (e.g. not found) is a row error naming the number.
- ``line`` is the record number: the position of the trackResult in the file (1-based).
- ``description`` is ``eventDescription``, followed by ``exceptionDescription`` when there is one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from recoup.errors import FileRefused
from recoup.ingest.base import ReadResult
from recoup.shipments.codes import NOT_A_SCAN, UNKNOWN, reason_from_text, table
from recoup.shipments.codes.jsonscans import (
    ScanCollector,
    dig,
    has_key,
    head_text,
    load_documents,
    parse_instant,
    read_bytes,
    text,
)

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
    out = ScanCollector(FORMAT)
    record = 0
    responses = 0
    unique_ids: dict[str, set[str]] = defaultdict(set)
    for _, doc in docs:
        complete = dig(doc, "output", "completeTrackResults")
        if not isinstance(complete, list):
            errors = dig(doc, "errors")
            if isinstance(errors, list):
                out.notes.append("FedEx error response: " + "; ".join(_error_text(e) for e in errors))
            else:
                out.notes.append("skipped a JSON value that is not a FedEx Track response")
            continue
        responses += 1
        for ctr in complete:
            results = dig(ctr, "trackResults")
            asked = text(dig(ctr, "trackingNumber"))
            if not isinstance(results, list) or not results:
                record += 1
                out.error(record, "trackResults", f"{asked or '?'}: no trackResults")
                continue
            for result in results:
                record += 1
                number = text(dig(result, "trackingNumberInfo", "trackingNumber")) or asked
                if number is None:
                    out.error(record, "trackingNumberInfo.trackingNumber", "missing")
                    continue
                unique = text(dig(result, "trackingNumberInfo", "trackingNumberUniqueId"))
                if unique:
                    unique_ids[number].add(unique)
                _result(result, number, record, out)
    if not responses and require_results:
        detail = f": {out.notes[0]}" if out.notes else ""
        raise FileRefused(f"no FedEx Track API response (output.completeTrackResults) in the file{detail}")
    for number, ids in sorted(unique_ids.items()):
        if len(ids) > 1:
            out.notes.append(f"{number}: FedEx answered with {len(ids)} shipments under this number "
                             f"({', '.join(sorted(ids))}); their events are merged")
    return out.result()


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        return ": ".join(t for t in (text(error.get("code")), text(error.get("message"))) if t) or "?"
    return str(error)


def _result(result: Mapping[str, Any], number: str, record: int, out: ScanCollector) -> None:
    if isinstance(result.get("error"), Mapping):
        out.error(record, "error", f"{number}: {_error_text(result['error'])}")
        return
    events = result.get("scanEvents") or []
    if not isinstance(events, list):
        out.error(record, "scanEvents", f"{number}: not a list")
        events = []
    for j, event in enumerate(events):
        out.read += 1
        where = f"scanEvents[{j}]"
        if not isinstance(event, Mapping):
            out.error(record, where, f"{number}: not an object")
            continue
        mapped = _status(event, out)
        if mapped is None:
            continue
        status, reason = mapped
        try:
            occurred_at, offset = parse_instant(event.get("date"), naive_is_utc=False)
        except ValueError as exc:
            out.error(record, f"{where}.date", f"{number}: {exc}")
            continue
        description = text(event.get("eventDescription"))
        exception_text = text(event.get("exceptionDescription"))
        if exception_text:
            description = f"{description}: {exception_text}" if description else exception_text
        location = event.get("scanLocation") if isinstance(event.get("scanLocation"), Mapping) else {}
        out.add(
            tracking_number=number, carrier=CARRIER, status=status, line=record,
            occurred_at=occurred_at, utc_offset_min=offset,
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
