"""The worker's logs: JSON lines on stderr when it is not a terminal (journald, docker, files),
readable lines on a terminal. Secrets never reach a line: every configured secret value (API keys,
passwords inside SMTP or database URLs, webhook URLs) is replaced by ``***`` in the final text."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import urlsplit

from recoup.redact import mask_urls
from recoup.settings import Settings

EXTRA_FIELDS = ("job", "tick", "worker", "outcome", "counts", "duration_s", "detail")
_HANDLER_NAME = "recoup-worker"


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold, longest first."""
    out: set[str] = set()

    def add_url(url: str | None) -> None:
        if not url:
            return
        try:
            pw = urlsplit(url).password
        except ValueError:
            pw = None
        if pw:
            out.add(pw)

    for cs in settings.carriers.values():
        for v in (cs.api_key, cs.tracking_api_key):
            if v:
                out.add(v)
        add_url(cs.smtp_url)
    add_url(settings.notify.smtp_url)
    add_url(settings.database_url)
    if settings.notify.webhook_url:
        out.add(settings.notify.webhook_url)
        path = urlsplit(settings.notify.webhook_url).path
        if len(path) > 8:
            out.add(path)
    return sorted((s for s in out if len(s) >= 4), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every configured secret, and the password of every URL in it, replaced by ``***``."""
    for s in secrets:
        if s in text:
            text = text.replace(s, "***")
    return mask_urls(text)


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        d: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k in EXTRA_FIELDS:
            if hasattr(record, k):
                d[k] = getattr(record, k)
        if record.exc_info:
            d["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(d, default=str), self.secrets)


class TextFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def setup(settings: Settings, *, stream: TextIO | None = None, json_lines: bool | None = None,
          level: int | None = None) -> logging.Handler:
    """One handler for recoup's and APScheduler's loggers (replacing a previous one). ``level``
    defaults to the settings' ``log_level`` (``RECOUP_LOG_LEVEL``); APScheduler logs WARNING and up
    unless that level is DEBUG."""
    if level is None:
        level = logging.getLevelName(settings.log_level)
        if not isinstance(level, int):
            level = logging.INFO
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = not (hasattr(stream, "isatty") and stream.isatty())
    secrets = secrets_of(settings)
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter(secrets) if json_lines else TextFormatter(secrets))
    previous = {}
    scheduler_level = logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    for name, lvl in (("recoup", level), ("apscheduler", scheduler_level)):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            if h.get_name() == _HANDLER_NAME:
                lg.removeHandler(h)
        lg.addHandler(handler)
        previous[name] = lg.level
        lg.setLevel(lvl)
    handler.recoup_previous_levels = previous  # type: ignore[attr-defined]
    return handler


def teardown(handler: logging.Handler) -> None:
    """Undo :func:`setup` (the CLI's process ends anyway; tests run many commands in one process)."""
    previous = getattr(handler, "recoup_previous_levels", {})
    for name in ("recoup", "apscheduler"):
        lg = logging.getLogger(name)
        lg.removeHandler(handler)
        if name in previous:
            lg.setLevel(previous[name])
    handler.flush()
