"""Shared rules of every CSV input (formats.md): UTF-8 with or without BOM, LF or CRLF, columns by
header name in any order (case and surrounding spaces ignored), unknown columns ignored, empty
cell = no value. Vectorised helpers that validate whole columns and collect row errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import available_timezones

import numpy as np
import pandas as pd

from recoup.errors import FileRefused
from recoup.ingest.base import RowError
from recoup.ingest.xlsx import text_path

AMOUNT_RE = r"^\s*-?\d+(?:\.\d{1,2})?\s*$"
DECIMAL_RE = r"^\s*\d+(?:\.\d+)?\s*$"


def read_head(path: Path, n: int = 65536) -> bytes:
    """The first bytes of the file's text (of its first sheet with data for an .xlsx workbook)."""
    with open(text_path(path), "rb") as f:
        return f.read(n)


def header_of(head: bytes) -> list[str]:
    """The normalised header of a CSV's first line (empty when it is not text)."""
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []
    first = text.splitlines()[0] if text else ""
    try:
        return [c.strip().lower() for c in next(csv.reader([first]))]
    except (StopIteration, csv.Error):
        return []


def load_csv(path: Path, required: list[str], kind: str) -> pd.DataFrame:
    """All cells as text ('' = none), columns renamed to lower-case names, a `line` column added.
    Refuses (FileRefused) a file that is not UTF-8 CSV text or lacks required columns."""
    try:
        raw = text_path(Path(path)).read_bytes()
    except OSError as e:
        raise FileRefused(f"cannot read: {e.strerror}") from None
    if not raw.strip():
        raise FileRefused("the file is empty")
    if b"\x00" in raw[:65536]:
        raise FileRefused("binary content, not a CSV file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileRefused(f"not UTF-8 text (byte {e.start})") from None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                         skip_blank_lines=True, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise FileRefused(f"not a readable CSV: {str(e).strip().splitlines()[0]}") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise FileRefused(f"column {dupes[0]!r} appears twice in the header")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise FileRefused(f"not a {kind} file: missing column(s) {', '.join(missing)}")
    for c in df.columns:
        df[c] = df[c].str.strip()
    # line numbers: header is line 1; blank lines are skipped by pandas, so count them back
    lines = _data_line_numbers(text)
    if len(lines) == len(df):
        df["line"] = lines
    else:  # quoted multi-line cells: fall back to record numbers + 1
        df["line"] = np.arange(2, len(df) + 2)
    return df


def _data_line_numbers(text: str) -> np.ndarray:
    ls = text.splitlines()
    return np.array([i + 1 for i, ln in enumerate(ls) if i > 0 and ln.strip()], dtype=np.int64)


class Checker:
    """Collects row errors over vectorised checks; `bad` marks rows to leave out."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.bad = np.zeros(len(df), dtype=bool)
        self.errors: list[RowError] = []

    def flag(self, mask: pd.Series | np.ndarray, column: str, reason: str | pd.Series, *,
             value_of: str | None = None, suffix: str = "") -> None:
        """Mark rows bad. With `value_of`, the reason is `reason + repr(cell) + suffix`, built only
        for the flagged rows (never for the whole column)."""
        mask = np.asarray(pd.Series(mask).fillna(False), dtype=bool) if isinstance(mask, pd.Series) else \
            np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        lines = self.df["line"].to_numpy()[idx]
        if value_of is not None:
            cells = self.df[value_of].to_numpy()[idx]
            reasons = [f"{reason}{v!r}{suffix}" for v in cells]
        else:
            reasons = reason.to_numpy()[idx] if isinstance(reason, pd.Series) else [reason] * len(idx)
        inv = (self.df["invoice_number"].to_numpy()[idx] if "invoice_number" in self.df.columns
               else [None] * len(idx))
        for ln, rs, iv in zip(lines, reasons, inv, strict=True):
            self.errors.append(RowError(int(ln), column, str(rs), iv or None))
        self.bad |= mask

    def required(self, *cols: str) -> None:
        for c in cols:
            self.flag(self.df[c] == "", c, "missing value")

    def choice(self, col: str, options: frozenset[str] | set[str], lower: bool = True) -> pd.Series:
        s = self.df[col].str.lower() if lower else self.df[col]
        bad = (s != "") & ~s.isin(options)
        self.flag(bad, col, "unknown value ", value_of=col, suffix=f"; expected one of {', '.join(sorted(options))}")
        return s

    def date(self, col: str) -> pd.Series:
        s = self.df[col]
        d = pd.to_datetime(s.where(s != ""), format="%Y-%m-%d", errors="coerce")
        self.flag((s != "") & d.isna(), col, "not a date (YYYY-MM-DD): ", value_of=col)
        return d

    def cents(self, col: str) -> pd.Series:
        s = self.df[col]
        ok = s.str.match(AMOUNT_RE)
        self.flag((s != "") & ~ok, col, "not an amount with at most two decimals: ", value_of=col)
        return cents_of(s.where(ok & (s != ""), ""))

    def decimal_text(self, col: str) -> pd.Series:
        s = self.df[col]
        ok = s.str.match(DECIMAL_RE)
        self.flag((s != "") & ~ok, col, "not a non-negative number: ", value_of=col)
        return s.where(ok & (s != ""), None)

    def boolean(self, col: str) -> pd.Series:
        s = self.df[col].str.lower()
        m = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False, "y": True, "n": False}
        bad = (s != "") & ~s.isin(list(m))
        self.flag(bad, col, "not true/false: ", value_of=col)
        return s.map(m).astype(object).where(~bad & (s != ""), None)

    def timezone(self, col: str) -> pd.Series:
        s = self.df[col]
        zones = _zones()
        uniq = set(s.unique()) - {""}
        unknown = {z for z in uniq if z not in zones}
        self.flag(s.isin(unknown), col, "unknown IANA time zone: ", value_of=col)
        return s.where((s != "") & ~s.isin(unknown), None)

    def instant(self, col: str, *, require_offset: bool = True) -> tuple[pd.Series, pd.Series]:
        """ISO 8601 instants with offset -> (UTC datetime64, offset minutes Int64)."""
        s = self.df[col]
        z = s.str.endswith("Z") | s.str.endswith("z")
        t6 = s.str[-6:]
        colon = t6.str.match(r"^[+-]\d\d:\d\d$").fillna(False).astype(bool)
        t5 = s.str[-5:]
        plain = ~colon & t5.str.match(r"^[+-]\d{4}$").fillna(False).astype(bool) & (s.str.len() > 16)
        sign = t6.str[0].where(colon, t5.str[0])
        hh = t6.str[1:3].where(colon, t5.str[1:3])
        mm = t6.str[4:6].where(colon, t5.str[3:5])
        has = (z | colon | plain).to_numpy()
        num = (pd.to_numeric(hh.where(has, "0"), errors="coerce").fillna(0).astype("int64") * 60
               + pd.to_numeric(mm.where(has, "0"), errors="coerce").fillna(0).astype("int64"))
        num = num.where(~(sign == "-").fillna(False).astype(bool), -num)
        num = num.where(~z.fillna(False).astype(bool), 0)
        minutes = num.where(has)
        has = pd.Series(has, index=s.index)
        utc = pd.to_datetime(s.where((s != "") & has), utc=True, format="ISO8601", errors="coerce")
        self.flag((s != "") & ~has & require_offset, col, "no UTC offset: ", value_of=col)
        self.flag((s != "") & has & utc.isna(), col, "not an ISO 8601 instant: ", value_of=col)
        return utc, minutes.astype("Int64")

    def frame(self) -> pd.DataFrame:
        return self.df.loc[~self.bad]


def cents_of(s: pd.Series) -> pd.Series:
    """Vectorised exact text -> int cents for strings matching AMOUNT_RE ('' -> 0)."""
    t = s.str.strip()
    neg = t.str.startswith("-")
    t = t.str.lstrip("-")
    parts = t.str.split(".", n=1, expand=True)
    whole = parts[0].replace("", "0").astype(np.int64)
    frac = parts[1].fillna("") if parts.shape[1] > 1 else pd.Series("", index=s.index)
    frac = frac.str.ljust(2, "0").replace("", "00").astype(np.int64)
    c = whole * 100 + frac
    return c.where(~neg, -c).astype(np.int64)


_ZONES: set[str] | None = None


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    return _ZONES


def none_if_empty(s: pd.Series) -> pd.Series:
    return s.where(s != "", None)


def to_date(v: object) -> dt.date | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])
