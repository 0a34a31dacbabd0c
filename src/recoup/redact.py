"""Passwords in URLs never reach a message: one helper, :func:`mask_url`, used everywhere a URL is
printed or logged (``recoup init``, database errors, the worker's log lines).

``scheme://user:secret@host/...`` becomes ``scheme://user:***@host/...``; a URL without a password
is returned unchanged. :func:`mask_urls` does the same for every URL inside a free text (an error
message from a driver that quotes the URL it was given).
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# scheme://user:password@host — the password may itself hold '@' or ':' (unencoded): it runs to the
# last '@' that is followed by a host part (no '@', up to '/', '?', '#', a quote, a space or the end).
_USERINFO = re.compile(
    r"(?P<pre>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)(?P<pw>[^\s'\"]*?)@(?=[^\s@/'\"]*(?:[/?#\s'\"]|$))"
)

__all__ = ["MASK", "mask_url", "mask_urls", "url_has_password"]


def mask_urls(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    if "://" not in text:
        return text
    return _USERINFO.sub(lambda m: f"{m['pre']}{MASK}@" if m["pw"] else m[0], text)


def mask_url(url: Any) -> str:
    """A URL (str or SQLAlchemy URL) as text, its password replaced by ``***``."""
    return mask_urls(str(url) if not hasattr(url, "render_as_string") else url.render_as_string(hide_password=False))


def url_has_password(url: str | None) -> bool:
    return bool(url) and mask_urls(str(url)) != str(url)
