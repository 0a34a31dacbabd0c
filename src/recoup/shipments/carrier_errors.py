"""Carrier API error bodies saved as files: recognised, and refused with the carrier's own words.

A merchant who saves what the tracking API answered may save an error instead of tracking data:
UPS ``{"response": {"errors": [{"code": "151044", "message": "No tracking information
available"}]}}``, FedEx ``{"transactionId": ..., "errors": [{"code": ..., "message": ...}]}``,
EasyPost ``{"error": {"code": ..., "message": ..., "errors": []}}``, USPS ``{"apiVersion": ...,
"error": {"code": ..., "message": ..., "errors": [{"title", "detail"}]}}``. Auto-detection
recognises them (after every tracking format, so a body with results is never taken for one) and
the file is refused with one line: "UPS error 151044: No tracking information available (...)".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recoup.errors import FileRefused
from recoup.ingest.base import ReadResult
from recoup.ingest.reader import Format
from recoup.shipments.codes.jsonscans import (
    BadRecord,
    carrier_error,
    error_line,
    head_text,
    load_documents,
    read_bytes,
)

FORMAT = "carrier_error"

__all__ = ["FORMAT", "read", "sniff"]


def _bodies(value: Any) -> list[tuple[str, str | None, str | None]] | None:
    items = value if isinstance(value, list) else [value]
    found = [carrier_error(item) for item in items]
    if not found or any(f is None for f in found):
        return None
    return [f for f in found if f is not None]


def sniff(head: bytes) -> bool:
    """A whole JSON value (or JSON Lines) in the head that is nothing but carrier error bodies."""
    body = head_text(head)
    if body is None:
        return False
    try:
        docs = load_documents(body.encode("utf-8"), "carrier API")
    except FileRefused:
        return False
    except (ValueError, RecursionError):   # pragma: no cover - load_documents refuses these
        return False
    return bool(docs) and all(not isinstance(doc, BadRecord) and _bodies(doc) is not None for _, doc in docs)


def read(path: Path) -> ReadResult:
    docs = load_documents(read_bytes(path), "carrier API")
    found: list[tuple[str, str | None, str | None]] = []
    for _, doc in docs:
        bodies = _bodies(doc)
        if bodies is None:
            raise FileRefused("a JSON file that is neither tracking data nor only carrier error responses "
                              f"(starts {json.dumps(doc)[:60]}); give --input-format if you know it")
        found.extend(bodies)
    if not found:
        raise FileRefused("no carrier error response in the file")
    line = error_line(*found[0])
    if len(found) > 1:
        line += f"; and {len(found) - 1} more error responses in the file"
    raise FileRefused(line)


READER = Format("carrier_error", "scans", sniff, read)
