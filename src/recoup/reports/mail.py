"""``recoup report send``: the month's report written and e-mailed, the files attached, with the totals
per currency in the body."""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Engine

from recoup.errors import RecoupError
from recoup.reports.monthly import build_monthly, write_monthly
from recoup.settings import Settings
from recoup.worker.notify import send_email


def send_monthly(engine: Engine, settings: Settings, month: str, folder: Path, *, recipients: Sequence[str],
                 formats: Sequence[str], as_of: dt.date) -> list[Path]:
    """Write ``month``'s report into ``folder`` in ``formats`` and e-mail it to ``recipients`` over the
    SMTP server of the settings; the files written. RecoupError when it cannot be written, or was
    written but not sent (saying so)."""
    try:
        paths = write_monthly(engine, month, folder, formats=formats, as_of=as_of, near_days=settings.near_deadline_days)
    except OSError as e:
        raise RecoupError(f"cannot write the report into {folder}: {e}") from None
    rep = build_monthly(engine, month, as_of=as_of, near_days=settings.near_deadline_days)
    lines = [f"The recovery report for {month} is attached ({len(paths)} file(s)).", ""]
    for t in rep.totals:
        cur = t["currency"]
        lines.append(f"{cur}: credited {t['credited']:,.2f}, claimed {t['claimed']:,.2f} in {t['claims']:,} claims, "
                     f"left on the table {t['missed_amount']:,.2f}, leaked {t['leaked_amount']:,.2f}")
    if not rep.totals:
        lines.append("Nothing happened in this month: no shipments, invoices, findings, claims or credits.")
    try:
        send_email(settings, recipients, f"recoup: recovery report {month}", "\n".join(lines) + "\n", paths)
    except (OSError, smtplib.SMTPException, ValueError) as e:
        raise RecoupError(f"the report was written ({folder}) but not sent: {type(e).__name__}: {e}") from None
    return paths
