"""EasyPost webhooks: signature check and event parsing (both pure).

EasyPost signs each webhook body with HMAC-SHA256 keyed by the webhook secret, NFKD-normalised and
UTF-8 encoded, and sends ``X-Hmac-Signature: hmac-sha256-hex=<hex digest>``. The body must be the
raw bytes received (not re-serialised JSON).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from recoup.ingest.base import ReadResult
from recoup.shipments import easypost

PREFIX = "hmac-sha256-hex="

__all__ = ["PREFIX", "parse_event", "sign", "verify_signature"]


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hmac-Signature`` header value EasyPost would send for this body and secret."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header_value: str | None, secret: str) -> bool:
    """True when ``header_value`` is EasyPost's signature of ``body`` under ``secret``.

    Compared in constant time. A missing header, another scheme, or an empty secret is False.
    """
    if not header_value or not secret:
        return False
    value = header_value.strip()
    if not value.lower().startswith(PREFIX):
        return False
    given = value[len(PREFIX):].strip().lower()
    expected = sign(body, secret)[len(PREFIX):]
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", errors="replace"))


def parse_event(body: bytes) -> ReadResult:
    """Scans from one webhook body (an Event). Events that carry no Tracker (``batch.updated`` ...)
    give an empty result with a note; a body that is not JSON raises FileRefused."""
    return easypost.parse(body, require_trackers=False)
