"""What the JSON tracking readers (EasyPost, FedEx Track, UPS Track, USPS Tracking) share.

Reading the bytes into JSON documents (one value, an array, or JSON Lines) with a clear refusal for
anything else, parsing instants, and collecting canonical scan rows with the within-file dedupe
(the same carrier, tracking number, instant and status once) into a frame of ``SCAN_COLUMNS``; the
scaffolding around each carrier's mapping (:class:`TrackingFile`: the records, the carrier error
bodies seen and the refusal of a file of nothing else; :func:`each_event`, :func:`refuse_number`,
:func:`error_text`, :func:`utc_offset`). Each carrier's module keeps its own mapping (what a
response is, how an event becomes a scan) and its public ``sniff``/``read``/``parse``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from recoup.errors import FileRefused
from recoup.ingest.base import SCAN_COLUMNS, ReadResult, RowError
from recoup.ingest.bounds import WINDOW, in_window

SNIFF_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"
_TEXT_COLUMNS = ("tracking_number", "carrier", "status", "carrier_status_code", "description", "city",
                 "postal", "country", "exception_reason")


def read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FileRefused(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def head_text(head: bytes) -> str | None:
    """The start of a file as text if it could be JSON (for sniff); None for binary or non-JSON."""
    head = head[:SNIFF_BYTES]
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    if b"\x00" in head:
        return None
    text = head.decode("utf-8", errors="ignore").lstrip()
    if not text or text[0] not in "{[":
        return None
    return text


def has_key(text: str, key: str) -> bool:
    """Whether the JSON text has ``"key":`` somewhere (a cheap structural test for sniff)."""
    return re.search(r'"' + re.escape(key) + r'"\s*:', text) is not None


@dataclass(frozen=True)
class BadRecord:
    """A JSON Lines record that could not be decoded: readers report it as that record's error."""

    reason: str


def bad_records(docs: Iterable[tuple[int, Any]], out: ScanCollector) -> list[tuple[int, Any]]:
    """The decodable documents; each :class:`BadRecord` becomes a row error of ``out``."""
    good = []
    for record, doc in docs:
        if isinstance(doc, BadRecord):
            out.error(record, None, doc.reason)
        else:
            good.append((record, doc))
    return good


def load_documents(data: bytes, what: str) -> list[tuple[int, Any]]:
    """JSON values with their record numbers: one document (1), an array (1..n), or JSON Lines (or
    any other sequence of JSON values) numbered by the line each starts on.

    Refuses (FileRefused) an empty file, binary content, text that is not UTF-8 and anything that is
    not valid JSON, truncated files included. ``what`` names the expected format in the reason.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if not data.strip():
        raise FileRefused(f"empty file: no {what} data")
    if b"\x00" in data:
        raise FileRefused(f"binary content (NUL bytes): not a {what} JSON file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"not UTF-8 text (bad byte at offset {exc.start}): not a {what} JSON file") from exc
    stripped = text.lstrip()
    if not stripped:
        raise FileRefused(f"empty file: no {what} data")
    if stripped[0] not in "{[":
        first = stripped.splitlines()[0][:40]
        raise FileRefused(f"not JSON (starts with {first!r}): not a {what} file")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as whole_error:
        return _json_lines(text, what, whole_error)
    except RecursionError as exc:
        raise FileRefused(f"JSON nested too deeply: not a {what} file") from exc
    if isinstance(value, list):
        return [(i, item) for i, item in enumerate(value, start=1)]
    return [(1, value)]


def _json_lines(text: str, what: str, whole_error: json.JSONDecodeError) -> list[tuple[int, Any]]:
    """JSON Lines, or any stream of JSON values one after another; the record is the start line."""
    records = [ln.lstrip() for ln in text.splitlines() if ln.strip()]
    several = len(records) > 1 and all(ln[0] in "{[" for ln in records)     # JSON Lines, one value a line
    if not whole_error.msg.startswith("Extra data") and not several:
        raise FileRefused(
            f"not valid JSON ({whole_error.msg} at line {whole_error.lineno} column {whole_error.colno}); "
            f"a truncated or damaged {what} file?"
        )
    decoder = json.JSONDecoder()
    docs: list[tuple[int, Any]] = []
    pos, size, line, counted = 0, len(text), 1, 0
    while True:
        while pos < size and text[pos].isspace():
            pos += 1
        if pos >= size:
            if docs and all(isinstance(d, BadRecord) for _, d in docs):
                raise FileRefused(f"not valid JSON: no record of the file could be read ({docs[0][1].reason}, "
                                  f"line {docs[0][0]}); a truncated or damaged {what} file?")
            return docs
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # one damaged line is that line's error: the good records load (issue 15); a file with
            # no good record at all is refused as before
            end = text.find("\n", pos)
            end = size if end < 0 else end
            docs.append((line, BadRecord(f"not valid JSON ({exc.msg} at column {exc.colno}); a truncated "
                                         f"or damaged {what} record?")))
            pos = end
            continue
        if isinstance(value, list):
            docs.extend((line, item) for item in value)
        else:
            docs.append((line, value))


def dig(obj: Any, *path: str | int) -> Any:
    """``obj[path[0]][path[1]]...`` or None when any step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or not -len(obj) <= step < len(obj):
                return None
        elif not isinstance(obj, Mapping):
            return None
        obj = obj[step] if isinstance(step, int) else obj.get(step)
    return obj


def text(value: Any) -> str | None:
    """A non-empty trimmed string, or None (numbers become text; objects and lists do not)."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    out = str(value).strip()
    return out or None


# Tracking numbers that are template text, not numbers: API examples ("string"), request templates
# ("<Inquiry Number>", "{{trackingNumber}}"), form defaults. A decision (docs/decisions.md, issue 11).
_PLACEHOLDER_WORDS = frozenset({
    "string", "null", "none", "nil", "undefined", "n/a", "na", "tbd", "test", "example", "sample",
    "placeholder", "tracking number", "trackingnumber", "tracking_number", "inquiry number",
    "inquirynumber", "your tracking number", "tracking code", "tracking_code",
})
_TEMPLATE = re.compile(r"^\s*(<[^>]*>|\{\{?[^}]*\}?\}|\[[^\]]*\]|\$\{[^}]*\}|%[^%]+%)\s*$")


def placeholder_reason(value: Any) -> str | None:
    """Why a tracking number is not one (empty, template text such as ``<Inquiry Number>``, the
    OpenAPI placeholder ``string``, one repeated character), or None when it may be real."""
    raw = text(value)
    if raw is None:
        return "empty tracking number"
    if _TEMPLATE.match(raw):
        return f"tracking number {raw!r} is template text, not a tracking number"
    if raw.casefold() in _PLACEHOLDER_WORDS:
        return f"tracking number {raw!r} is a placeholder, not a tracking number"
    compact = re.sub(r"[\s-]", "", raw)
    if len(compact) > 3 and len(set(compact.upper())) == 1:
        return f"tracking number {raw!r} is a placeholder (one repeated character)"
    if not any(ch.isdigit() for ch in compact) and " " in raw:
        return f"tracking number {raw!r} is text, not a tracking number"
    return None


# Carrier API error bodies: (carrier name, how to find the error list or object).
def carrier_error(doc: Any) -> tuple[str, str | None, str | None] | None:
    """(carrier, code, message) when a JSON value is a carrier API error body and holds no results:
    UPS ``{"response": {"errors": [{"code", "message"}]}}``, FedEx ``{"transactionId",
    "errors": [{"code", "message"}]}``, EasyPost ``{"error": {"code", "message"}}``, USPS
    ``{"apiVersion", "error": {"code", "message", "errors": [...]}}``."""
    if not isinstance(doc, Mapping):
        return None
    ups = dig(doc, "response", "errors")
    if isinstance(ups, list) and ups and dig(doc, "trackResponse") is None:
        return ("UPS", *_first_error(ups))
    fedex = doc.get("errors")
    if isinstance(fedex, list) and fedex and dig(doc, "output", "completeTrackResults") is None:
        return ("FedEx", *_first_error(fedex))
    error = doc.get("error")
    if isinstance(error, Mapping) and ("code" in error or "message" in error):
        usps_items = isinstance(error.get("errors"), list) and any(
            isinstance(e, Mapping) and ("title" in e or "detail" in e) for e in error["errors"])
        carrier = "USPS" if "apiVersion" in doc or usps_items else "EasyPost"
        code, message = text(error.get("code")), text(error.get("message"))
        if carrier == "USPS" and isinstance(error.get("errors"), list) and error["errors"]:
            first = error["errors"][0]
            if isinstance(first, Mapping):
                detail = text(first.get("detail")) or text(first.get("title"))
                if detail and detail != message:
                    message = f"{message}: {detail}" if message else detail
        return carrier, code, message
    return None


def _first_error(errors: list[Any]) -> tuple[str | None, str | None]:
    codes, messages = [], []
    for e in errors:
        if isinstance(e, Mapping):
            if text(e.get("code")):
                codes.append(str(text(e.get("code"))))
            if text(e.get("message")):
                messages.append(str(text(e.get("message"))))
        elif text(e):
            messages.append(str(text(e)))
    return (", ".join(dict.fromkeys(codes)) or None), ("; ".join(dict.fromkeys(messages)) or None)


def error_reason(carrier: str, code: str | None, message: str | None) -> str:
    """A carrier error body among good records, as that record's row error: "UPS error 151044: ..."."""
    return f"{carrier} error {code or ''}: {message or ''}".strip()


def error_line(carrier: str, code: str | None, message: str | None) -> str:
    """The one-line refusal for a carrier error body: "UPS error 151044: No tracking information
    available (...)"."""
    head = f"{carrier} error {code}" if code else f"{carrier} error"
    return (f"{head}: {message or 'no message'} (the file is an error response from the {carrier} API, "
            "not tracking data: nothing to load; request the tracking again or check the number)")


def parse_instant(value: Any, *, naive_is_utc: bool) -> tuple[pd.Timestamp, int | None]:
    """An ISO 8601 date-time as (UTC instant, the UTC offset written in minutes).

    A value without an offset is UTC when ``naive_is_utc`` (EasyPost documents UTC) and refused
    otherwise; the offset is None then. Raises ValueError with the reason.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError("missing")
    raw = value.strip()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date-time: {raw!r}") from exc
    if len(raw) <= 10:
        raise ValueError(f"a date without a time: {raw!r}")
    offset = moment.utcoffset()
    if offset is None:
        if not naive_is_utc:
            raise ValueError(f"no UTC offset: {raw!r}")
        return pd.Timestamp(moment.replace(tzinfo=UTC)), None
    minutes = int(offset.total_seconds() // 60)
    return pd.Timestamp(moment).tz_convert("UTC"), minutes


class ScanCollector:
    """Collects canonical scan rows, dropping repeats of (carrier, tracking number, instant, status)."""

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self.rows: list[dict[str, Any]] = []
        self._seen: set[tuple[Any, ...]] = set()
        self.read = 0
        self.repeats = 0
        self.errors: list[RowError] = []
        self.unknown: Counter[str] = Counter()
        self.not_scans: Counter[str] = Counter()
        self.notes: list[str] = []
        self.promised: list[dict[str, Any]] = []

    def error(self, line: int | None, column: str | None, reason: str) -> None:
        self.errors.append(RowError(line=line, column=column, reason=reason))

    def add(self, *, tracking_number: str, carrier: str, status: str, line: int,
            occurred_at: pd.Timestamp | None = None, utc_offset_min: int | None = None,
            local_time: pd.Timestamp | None = None, carrier_status_code: str | None = None,
            description: str | None = None, city: str | None = None, postal: str | None = None,
            country: str | None = None, exception_reason: str | None = None) -> None:
        when = occurred_at if occurred_at is not None else local_time
        if when is not None and not in_window(when):
            self.error(line, "time", f"date outside the plausible window {WINDOW}: {when.isoformat()}")
            return
        key = (carrier, tracking_number, when, status)
        if key in self._seen:
            self.repeats += 1
            return
        self._seen.add(key)
        self.rows.append({
            "tracking_number": tracking_number, "carrier": carrier, "occurred_at": occurred_at,
            "local_time": local_time, "utc_offset_min": utc_offset_min, "status": status,
            "carrier_status_code": carrier_status_code, "description": description, "city": city,
            "postal": postal, "country": country, "exception_reason": exception_reason or None,
            "line": line,
        })

    def add_promised(self, *, tracking_number: str, carrier: str, promised: pd.Timestamp,
                     utc_offset_min: int | None) -> None:
        if not in_window(promised):
            self.notes.append(f"{tracking_number}: a promised delivery outside {WINDOW} was ignored")
            return
        row = {"tracking_number": tracking_number, "carrier": carrier, "promised_delivery": promised,
               "utc_offset_min": utc_offset_min}
        if row not in self.promised:
            self.promised.append(row)

    def result(self) -> ReadResult:
        notes = list(self.notes)
        if self.repeats:
            notes.append(f"{self.repeats} repeated events (same tracking number, instant and status) "
                         "stored once")
        if self.not_scans:
            parts = ", ".join(f"{code}: {n}" for code, n in sorted(self.not_scans.items()))
            notes.append(f"{sum(self.not_scans.values())} events are not scans and were not stored ({parts})")
        if self.unknown:
            parts = ", ".join(f"{code} ({n})" for code, n in sorted(self.unknown.items()))
            notes.append(f"unknown codes, see codes/*.csv: {parts}")
        extra: dict[str, pd.DataFrame] = {}
        if self.promised:
            extra["promised"] = promised_frame(self.promised)
        return ReadResult(format=self.format, frame=scan_frame(self.rows), read=self.read,
                          errors=self.errors, unknown_codes=self.unknown, notes=notes, extra=extra)


def scan_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A frame of SCAN_COLUMNS with the dtypes ingest/base.py promises."""
    rows = list(rows)
    col = {c: [r[c] for r in rows] for c in SCAN_COLUMNS}
    frame = pd.DataFrame({
        **{c: pd.Series(col[c], dtype=object) for c in _TEXT_COLUMNS},
        "occurred_at": pd.Series(pd.to_datetime(pd.Series(col["occurred_at"], dtype=object), utc=True),
                                 dtype="datetime64[ns, UTC]"),
        "local_time": pd.Series(pd.to_datetime(pd.Series(col["local_time"], dtype=object)),
                                dtype="datetime64[ns]"),
        "utc_offset_min": pd.array(col["utc_offset_min"], dtype="Int64"),
        "line": pd.Series(col["line"], dtype="int64"),
    })
    return frame[SCAN_COLUMNS]


def promised_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """extra["promised"]: tracking_number, carrier, promised_delivery (UTC) and utc_offset_min (Int64:
    the offset the carrier wrote, so the promised date "as written" can be recovered; <NA> for UTC)."""
    return pd.DataFrame({
        "tracking_number": pd.Series([r["tracking_number"] for r in rows], dtype=object),
        "carrier": pd.Series([r["carrier"] for r in rows], dtype=object),
        "promised_delivery": pd.Series(
            pd.to_datetime(pd.Series([r["promised_delivery"] for r in rows], dtype=object), utc=True),
            dtype="datetime64[ns, UTC]"),
        "utc_offset_min": pd.array([r["utc_offset_min"] for r in rows], dtype="Int64"),
    })


# ----------------------------------------------------------------------------- the readers' scaffolding

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


class TrackingFile:
    """One file being read: the scans collected (``out``), how many carrier responses were found
    and the carrier error bodies seen, for the refusal of a file with nothing to load."""

    def __init__(self, fmt: str) -> None:
        self.out = ScanCollector(fmt)
        self.responses = 0
        self.error_bodies: list[tuple[str, str | None, str | None]] = []

    def records(self, docs: Iterable[tuple[int, Any]]) -> list[tuple[int, Any]]:
        """The decodable documents; each record that is not valid JSON is that record's error."""
        return bad_records(docs, self.out)

    def error_body(self, doc: Any) -> tuple[str, str | None, str | None] | None:
        """(carrier, code, message) when ``doc`` is a carrier API error body, remembered for the refusal."""
        body = carrier_error(doc)
        if body is not None:
            self.error_bodies.append(body)
        return body

    def refuse_if_empty(self, required: bool, reason: str) -> None:
        """When results are required and the file held none: refuse it, with the carrier's first error
        when it answered one (the file is an error response), else with ``reason``."""
        if self.responses or not required:
            return
        if self.error_bodies:
            raise FileRefused(error_line(*self.error_bodies[0]))
        raise FileRefused(reason)

    def result(self) -> ReadResult:
        return self.out.result()


def each_event(out: ScanCollector, record: int, number: str, items: Iterable[Any], name: str
               ) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each event of a carrier's list with where it is (``name[j]``), counted as read; one that is
    not an object is that record's error."""
    for j, item in enumerate(items):
        out.read += 1
        where = f"{name}[{j}]"
        if not isinstance(item, Mapping):
            out.error(record, where, f"{number}: not an object")
            continue
        yield where, item


def refuse_number(out: ScanCollector, record: int, column: str, reason: str | None, events: list[Any]) -> None:
    """A response whose tracking number is missing or not one: its events are read and left out, and
    the record's error says why."""
    out.read += len(events)
    out.error(record, column, f"record {record}: refused, {reason or 'missing'}: {len(events)} events left out")


def error_text(error: Any) -> str:
    """A carrier's error object as ``code: message`` (``?`` when it holds neither)."""
    if isinstance(error, Mapping):
        return ": ".join(t for t in (text(error.get("code")), text(error.get("message"))) if t) or "?"
    return str(error)


def utc_offset(value: str, field: str) -> int:
    """``+HH:MM`` (or ``+HHMM``) as minutes east of UTC; ValueError naming ``field`` otherwise."""
    m = _OFFSET.match(value)
    if m is None or int(m[2]) > 14 or int(m[3]) >= 60:
        raise ValueError(f"{field} is not +HH:MM: {value!r}")
    minutes = int(m[2]) * 60 + int(m[3])
    return -minutes if m[1] == "-" else minutes
