"""EasyPost Tracker objects and ``tracker.*`` Event objects → canonical scans.

Input: one JSON value, a JSON array, or JSON Lines, each value being a Tracker
(``"object": "Tracker"``), an Event whose ``result`` is a Tracker (``tracker.created`` /
``tracker.updated``), or a list response (``{"trackers": [...]}``, ``{"events": [...]}``). Other
events (``batch.updated`` ...) are counted in the notes and skipped; a file with no tracker at all
is refused.

Mapping (codes/easypost_status.csv, formats.md): ``status`` first, then ``status_detail`` where the
table says it says more (``damaged``, ``lost``, ``weather_delay``, ``address_correction``,
``refused`` on any status; ``received_at_origin_facility`` on ``in_transit`` is ``picked_up``, as the
canonical rows of the same events in the acceptance data say). ``unknown``, ``cancelled``/``canceled``
and ``error`` are not scans: counted in the notes, not stored. The carrier name maps to the contract
code with codes/easypost_carriers.csv.

Decisions where the spec is silent:

- An unknown ``status`` is counted in ``unknown_codes`` (``easypost:<status>``) and the event is kept
  as ``in_transit`` (the table's ``*`` row): it is a carrier scan of some kind, and dropping it could
  make a scanned parcel look unscanned to the void-label rule; ``in_transit`` asserts nothing else.
  An unknown ``status_detail`` is counted (``easypost_detail:<detail>``) and changes nothing.
- An unknown carrier name is counted (``easypost_carrier:<name>``) and its tracker's events are left
  out with a row error: without a contract code they could not be matched to a shipment.
- ``datetime`` is UTC; a value without an offset is read as UTC (EasyPost documents UTC), one with
  an offset is converted. ``occurred_at`` is the instant, ``utc_offset_min`` is <NA>.
- Repeated histories (every event repeats the whole history): the same carrier, tracking number,
  instant and status is kept once, the first one read.
- ``extra["promised"]``: ``carrier_detail.guaranteed_delivery_date`` (an instant; a bare date is not
  one and is reported as a row error), one row per distinct value.
- ``line`` is the record number: the JSON Lines line, the array position, or 1.
- ``exception_reason`` when the codes give none: many carriers put the cause in the message
  ("Delivery exception (Customer not available or business closed)"). For an event about a problem
  (status exception, a cause-less problem ``status_detail`` such as ``delivery_exception``, or a
  message saying exception/delay/attempt) the reason is read from ``message`` with the keyword
  rules of codes/exception_keywords.csv, the ones the UPS and FedEx readers use; never from the
  message of a delivered, picked-up or out-for-delivery event.
- A placeholder ``tracking_code`` (empty, ``string``, template text) is a row error naming the record.
- An EasyPost error body (``{"error": {"code", "message"}}``) is a row error; a file holding only
  such bodies is refused with EasyPost's code and message.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from recoup.ingest.base import ReadResult
from recoup.ingest.reader import Format
from recoup.shipments.codes import NOT_A_SCAN, UNKNOWN, easypost_carrier, reason_from_text, table
from recoup.shipments.codes.jsonscans import (
    ScanCollector,
    TrackingFile,
    dig,
    each_event,
    error_reason,
    has_key,
    head_text,
    load_documents,
    parse_instant,
    placeholder_reason,
    read_bytes,
    refuse_number,
    text,
)

FORMAT = "easypost"
_WHAT = "EasyPost Tracker/Event"

__all__ = ["FORMAT", "parse", "parse_documents", "read", "sniff"]


def sniff(head: bytes) -> bool:
    """JSON that holds an EasyPost Tracker (``"object": "Tracker"``) or a ``tracker.*`` Event."""
    body = head_text(head)
    if body is None:
        return False
    if has_key(body, "completeTrackResults") or has_key(body, "trackResponse"):
        return False
    return bool(re.search(r'"object"\s*:\s*"Tracker"', body)
                or re.search(r'"description"\s*:\s*"tracker\.', body)
                or (has_key(body, "tracking_details") and has_key(body, "tracking_code")))


def read(path: Path) -> ReadResult:
    return parse(read_bytes(path))


def parse(data: bytes, *, require_trackers: bool = True) -> ReadResult:
    """Parse the bytes of a file or of an API/webhook body. Refuses bad JSON (FileRefused)."""
    return parse_documents(load_documents(data, _WHAT), require_trackers=require_trackers)


def parse_documents(docs: Iterable[tuple[int, Any]], *, require_trackers: bool = True) -> ReadResult:
    """Parse already-decoded JSON values, each with its record number."""
    file = TrackingFile(FORMAT)
    out = file.out
    skipped: Counter[str] = Counter()
    for record, doc in file.records(docs):
        body = file.error_body(doc)
        if body is not None:
            out.error(record, "error", error_reason(*body))
            continue
        for tracker in _trackers(doc, skipped):
            file.responses += 1
            _tracker(tracker, record, out)
    if skipped:
        parts = ", ".join(f"{k}: {n}" for k, n in sorted(skipped.items()))
        out.notes.append(f"skipped {sum(skipped.values())} values that are not trackers ({parts})")
    found = f" (found {', '.join(sorted(skipped))})" if skipped else ""
    file.refuse_if_empty(require_trackers, f"no EasyPost Tracker or tracker.* Event in the file{found}")
    return file.result()


def _trackers(doc: Any, skipped: Counter[str]) -> list[Mapping[str, Any]]:
    if not isinstance(doc, Mapping):
        skipped[type(doc).__name__] += 1
        return []
    kind = doc.get("object")
    if kind == "Tracker":
        return [doc]
    if kind == "Event":
        result = doc.get("result")
        if isinstance(result, Mapping) and result.get("object") == "Tracker":
            return [result]
        skipped[f"event {text(doc.get('description')) or '?'}"] += 1
        return []
    for key in ("trackers", "events"):
        if isinstance(doc.get(key), list) and kind is None:
            found: list[Mapping[str, Any]] = []
            for item in doc[key]:
                found.extend(_trackers(item, skipped))
            return found
    skipped[f"object {text(kind) or 'without an object type'}"] += 1
    return []


def _tracker(tracker: Mapping[str, Any], record: int, out: ScanCollector) -> None:
    details = tracker.get("tracking_details") or []
    if not isinstance(details, list):
        out.error(record, "tracking_details", "not a list")
        return
    tracking_number = text(tracker.get("tracking_code"))
    bad_number = placeholder_reason(tracking_number)
    if tracking_number is None or bad_number is not None:
        refuse_number(out, record, "tracking_code", bad_number, details)
        return
    carrier_name = text(tracker.get("carrier"))
    carrier = easypost_carrier(carrier_name) if carrier_name else None
    if carrier is None:
        out.read += len(details)
        out.unknown[f"easypost_carrier:{carrier_name}"] += 1
        out.error(record, "carrier", f"{tracking_number}: unknown EasyPost carrier {carrier_name!r} "
                  f"(not in codes/easypost_carriers.csv): {len(details)} events left out")
        return
    for where, detail in each_event(out, record, tracking_number, details, "tracking_details"):
        mapped = _status(detail, out)
        if mapped is None:
            continue
        status, reason = mapped
        try:
            occurred_at, _ = parse_instant(detail.get("datetime"), naive_is_utc=True)
        except ValueError as exc:
            out.error(record, f"{where}.datetime", f"{tracking_number}: {exc}")
            continue
        location = detail.get("tracking_location") if isinstance(detail.get("tracking_location"), Mapping) else {}
        out.add(
            tracking_number=tracking_number, carrier=carrier, status=status, line=record,
            occurred_at=occurred_at, utc_offset_min=None,
            carrier_status_code=text(detail.get("carrier_code")),
            description=text(detail.get("message")) or text(detail.get("description")),
            city=text(dig(location, "city")), postal=text(dig(location, "zip")),
            country=text(dig(location, "country")), exception_reason=reason,
        )
    _promised(tracker, tracking_number, carrier, record, out)


def _status(detail: Mapping[str, Any], out: ScanCollector) -> tuple[str, str | None] | None:
    """(canonical status, exception reason), or None for an event that is not a scan."""
    codes = table("easypost_status.csv")
    raw = text(detail.get("status")) or ""
    row = codes.get("status", raw)
    if row is None:
        out.unknown[f"easypost:{raw or '(empty)'}"] += 1
        row = codes.get("status", UNKNOWN)
        if row is None:   # pragma: no cover - the table has a * row
            return None
    if row["status"] == NOT_A_SCAN:
        out.not_scans[raw.lower()] += 1
        return None
    status, reason = row["status"], row["exception_reason"] or None
    detail_code = text(detail.get("status_detail"))
    if detail_code:
        refine = codes.get("status_detail", detail_code)
        if refine is None:
            out.unknown[f"easypost_detail:{detail_code}"] += 1
        elif refine["status"] and _applies(refine["applies_to"], raw):
            status, reason = refine["status"], refine["exception_reason"] or None
    if reason is None and _names_a_problem(status, detail_code, text(detail.get("message"))):
        reason = reason_from_text(text(detail.get("message")))
    return status, reason


# status_detail values that say something went wrong without naming why (easypost_status.csv)
_CAUSELESS_DETAILS = frozenset({"delivery_exception", "transit_exception", "delayed", "held", "failure"})
_PROBLEM_WORDS = re.compile(r"exception|delay|attempt|unable|could not|not delivered|refused|held", re.IGNORECASE)


def _names_a_problem(status: str, detail_code: str | None, message: str | None) -> bool:
    """Whether the carrier's message is about a problem, so its cause may be read from it: an
    exception or attempted delivery, a cause-less problem detail, or a message that says
    "exception", "delay", "attempt"... A delivered or moving parcel's message ("Delivered, Left with
    receptionist") never gives a reason."""
    if not message or status in ("delivered", "label_created", "picked_up", "out_for_delivery"):
        return False
    return (status in ("exception", "delivery_attempted")
            or (detail_code or "").lower() in _CAUSELESS_DETAILS
            or _PROBLEM_WORDS.search(message) is not None)


def _applies(applies_to: str, status: str) -> bool:
    return applies_to in ("", UNKNOWN) or status.lower() in applies_to.lower().split()


def _promised(tracker: Mapping[str, Any], tracking_number: str, carrier: str, record: int,
              out: ScanCollector) -> None:
    value = dig(tracker, "carrier_detail", "guaranteed_delivery_date")
    if value in (None, ""):
        return
    try:
        promised, _ = parse_instant(value, naive_is_utc=True)
    except ValueError as exc:
        out.error(record, "carrier_detail.guaranteed_delivery_date", f"{tracking_number}: {exc}")
        return
    out.add_promised(tracking_number=tracking_number, carrier=carrier, promised=promised, utc_offset_min=None)


READER = Format("easypost", "scans", sniff, read)
