"""What every reader's rows must satisfy before they are stored, whatever the format (issue 15).

Readers check what their format says; these checks hold for all of them, in one place, so no
format can let through a value that would store wrong data or crash the audit later:

- **Dates and instants** lie in ``[2000-01-01, 2100-01-01)``: a ship date, invoice date or scan time
  outside it (year 9999, 0001, pandas' 2262 limit) is a row error. The window is fixed, not relative
  to the clock, so the same file gives the same rows on any day and under any ``--as-of``.
- **Text** holds no NUL (``\\x00``): PostgreSQL refuses it and SQLite would store it, so a NUL in a
  text field is a row error on both stores alike (it is never silently stripped: a NUL in a
  tracking number or amount means the file is damaged).

A bad row of an invoice refuses its invoice (the error names it); a bad scan or shipment row is left
out and the rest load.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recoup.ingest.base import ReadResult, RowError

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 1, 1)      # exclusive
WINDOW = f"{EARLIEST.isoformat()} .. {(LATEST - dt.timedelta(days=1)).isoformat()}"

DATE_COLUMNS = {
    "shipments": ("ship_date", "promised_delivery"),
    "scans": ("occurred_at", "local_time"),
    "invoices": ("invoice_date", "ship_date"),
}

__all__ = ["EARLIEST", "LATEST", "WINDOW", "check_rows", "in_window"]


def in_window(moment: dt.date | dt.datetime | pd.Timestamp) -> bool:
    """Whether a date or instant lies in the plausible window."""
    return EARLIEST.year <= moment.year < LATEST.year


def _outside(values: pd.Series) -> np.ndarray:
    """Rows whose date or instant is set and outside the window (NaT and None are not judged)."""
    out = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values.tolist()):
        if isinstance(v, np.datetime64):
            v = None if np.isnat(v) else dt.date.fromisoformat(str(v.astype("datetime64[D]")))
        if v is not pd.NaT and isinstance(v, dt.date):      # datetimes and Timestamps are dates too
            out[i] = not in_window(v)
    return out


def _fast_outside(values: pd.Series) -> np.ndarray:
    """The same as :func:`_outside`, vectorised for datetime64 columns (any unit, with or without zone)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        s = values.dt.tz_convert(None) if getattr(values.dt, "tz", None) is not None else values
        years = s.dt.year.to_numpy(dtype="float64", na_value=np.nan)
        lo, hi = EARLIEST.year, LATEST.year
        return ~np.isnan(years) & ((years < lo) | (years >= hi))
    return _outside(values)


def check_rows(result: ReadResult, kind: str) -> ReadResult:
    """Move the rows that break a bound from ``result.frame`` to ``result.errors`` (in place)."""
    frame = result.frame
    if frame is None or frame.empty:
        return result
    bad = np.zeros(len(frame), dtype=bool)
    found: list[RowError] = []
    lines = frame["line"].to_numpy() if "line" in frame.columns else np.arange(1, len(frame) + 1)
    invoices = frame["invoice_number"].to_numpy(dtype=object) if "invoice_number" in frame.columns else None

    def flag(mask: np.ndarray, column: str, reason: str) -> None:
        for i in np.flatnonzero(mask & ~bad).tolist():
            inv = None if invoices is None else invoices[i]
            found.append(RowError(int(lines[i]), column, reason, None if inv is None else str(inv)))
        bad[:] |= mask

    for col in DATE_COLUMNS.get(kind, ()):
        if col in frame.columns:
            flag(_fast_outside(frame[col]), col, f"date outside the plausible window {WINDOW}")
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col].dtype):
            has_nul = frame[col].astype("string").str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
            if has_nul.any():
                flag(has_nul, col, "a NUL byte in the text: the file is damaged")
    if found:
        result.errors.extend(found)
        result.errors.sort(key=lambda e: e.line or 0)
        result.frame = frame.loc[~bad].reset_index(drop=True)
    return result
