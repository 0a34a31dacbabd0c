"""Shared rules of every CSV input (formats.md): UTF-8 with or without BOM, LF or CRLF, columns by
header name in any order (case and surrounding spaces ignored), unknown columns ignored, empty
cell = no value. Vectorised helpers that validate whole columns and collect row errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path
from zoneinfo import available_timezones

import numpy as np
import pandas as pd

from recoup.errors import FileRefused
from recoup.ingest.base import RowError, ragged_reason
from recoup.ingest.xlsx import text_path
from recoup.money import LINE_LIMIT_CENTS, limit_text

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


def checked_header(header: list[str], required: list[str], kind: str, optional: list[str] | None
                   ) -> tuple[list[str], list[int], list[str]]:
    """A CSV header's column names (trimmed, lower case), the positions of those to read (every column
    when ``optional`` is None, else the required and optional ones) and the names of the others.
    FileRefused for a name written twice or a required column missing."""
    names = [c.strip().lower() for c in header]
    counts = Counter(names)
    dupes = sorted(c for c, n in counts.items() if n > 1)
    if dupes:
        raise FileRefused(f"column {dupes[0]!r} appears twice in the header: rename or remove one")
    missing = [c for c in required if c not in counts]
    if missing:
        raise FileRefused(f"not a {kind} file: missing column(s) {', '.join(missing)}")
    if optional is None:
        return names, list(range(len(names))), []
    known = set(required) | set(optional)
    return names, [i for i, n in enumerate(names) if n in known], [n for n in names if n not in known]


def load_csv(path: Path, required: list[str], kind: str, optional: list[str] | None = None) -> pd.DataFrame:
    """All cells as text ('' = none), columns renamed to lower-case names, a `line` column added.
    Refuses (FileRefused) a file that is not UTF-8 CSV text, lacks required columns or names a column
    twice. With ``optional``, only the required and optional columns are read; the others are listed
    in ``df.attrs["unknown_columns"]`` (so a 20,000-column file costs what its known columns cost)."""
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
    shape = _record_shapes(text)
    if shape.width == 0:
        raise FileRefused("no header row")
    # the header as written (pandas renames a repeated name to "name.1", hiding the repeat)
    names, use, unknown = checked_header(shape.header, required, kind, optional)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                         skip_blank_lines=True, engine="c", on_bad_lines="skip", usecols=use)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise FileRefused(f"not a readable CSV: {str(e).strip().splitlines()[0]}") from None
    df.columns = [names[i] for i in use]
    df = pd.DataFrame({c: df[c].str.strip() for c in df.columns}, index=df.index)
    kept = ~shape.long
    if int(kept.sum()) != len(df):   # pandas and the csv module read the records differently: trust csv
        df = _frame_of_records(text, shape.width, names)[[names[i] for i in use]]
    df.attrs["unknown_columns"] = unknown
    df.attrs["known_columns"] = [*required, *(optional or [])]
    df.attrs["header_columns"] = names
    # line numbers: the first physical line of each record (header is line 1; blank lines skipped)
    df["line"] = shape.lines[kept]
    # a record with fewer or more fields than the header is a row error, never padded or cut
    # (issue 15: a row cut mid-amount must not load as a smaller amount)
    cut = len(shape.lines) > 0 and bool(shape.short[-1]) and not text.endswith(("\n", "\r"))
    errors = []
    for i in np.flatnonzero(shape.short | shape.long).tolist():
        why = ragged_reason(int(shape.fields[i]), shape.width, truncated=cut and i == len(shape.lines) - 1)
        errors.append(RowError(int(shape.lines[i]), None, why))
    df.attrs["row_errors"] = errors
    df.attrs["short"] = shape.short[kept]
    return df


def column_notes(df: pd.DataFrame, what: str = "") -> list[str]:
    """The run-summary note naming the columns :func:`load_csv` did not read, each with the known
    column it may have meant, so a misspelt header (``wt`` for ``weight``) does not pass silently."""
    import difflib

    unknown = df.attrs.get("unknown_columns") or []
    if not unknown:
        return []
    header = set(df.attrs.get("header_columns", df.columns))
    missing = [c for c in df.attrs.get("known_columns", []) if c not in header]
    named = []
    for c in [c for c in unknown if c.strip()][:10]:
        close = difflib.get_close_matches(c, missing, n=1, cutoff=0.5)
        named.append(f"{c} (did you mean {close[0]}?)" if close else c)
    more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
    kind = f" (not a column of a {what} file)" if what else ""
    return [f"{len(unknown)} unknown column(s) not read: {', '.join(named)}{more}{kind}"]


class _Shapes:
    """Each record's first line and field count, from the csv module (which knows quoted line breaks)."""

    def __init__(self, lines: list[int], fields: list[int], header: list[str]) -> None:
        self.header = header
        width = len(header)
        self.lines = np.asarray(lines, dtype=np.int64)
        self.fields = np.asarray(fields, dtype=np.int64)
        self.width = width
        self.short = self.fields < width
        self.long = self.fields > width


def _record_shapes(text: str) -> _Shapes:
    reader = csv.reader(io.StringIO(text))
    lines: list[int] = []
    fields: list[int] = []
    header: list[str] = []
    start = 1
    try:
        for rec in reader:
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                start = reader.line_num + 1
                continue
            if not header:
                header = rec
            else:
                lines.append(start)
                fields.append(len(rec))
            start = reader.line_num + 1
    except csv.Error as e:
        raise FileRefused(f"not a readable CSV: line {reader.line_num}: {e}") from None
    return _Shapes(lines, fields, header)


def _frame_of_records(text: str, width: int, columns: list[str]) -> pd.DataFrame:
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not (len(r) == 1 and not r[0].strip())][1:]
    rows = [r + [""] * (width - len(r)) for r in rows if len(r) <= width]
    df = pd.DataFrame(rows, columns=columns, dtype=object)
    for c in df.columns:
        df[c] = df[c].astype(str).str.strip()
    return df


class Checker:
    """Collects row errors over vectorised checks; `bad` marks rows to leave out."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.bad = np.zeros(len(df), dtype=bool)
        self.errors: list[RowError] = []
        # rows load_csv found with the wrong number of fields: errors, and short ones kept out
        shape_errors: list[RowError] = list(df.attrs.get("row_errors", []))
        short = df.attrs.get("short")
        if short is not None and len(short) == len(df):
            self.bad |= np.asarray(short, dtype=bool)
        if "invoice_number" in df.columns and shape_errors:
            inv = dict(zip(df["line"].tolist(), df["invoice_number"].tolist(), strict=True))
            for e in shape_errors:
                e.invoice_number = inv.get(e.line) or None
        self.errors.extend(shape_errors)

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
            reasons = (list(reason.to_numpy()[idx]) if isinstance(reason, pd.Series)
                       else [reason] * len(idx))
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

    def cents(self, col: str, *, limit: int = LINE_LIMIT_CENTS, non_negative: bool = False) -> pd.Series:
        """Exact int cents; a value beyond ``limit`` cents (or negative, with ``non_negative``) is a row error."""
        s = self.df[col]
        ok = s.str.match(AMOUNT_RE)
        self.flag((s != "") & ~ok, col, "not an amount with at most two decimals: ", value_of=col)
        whole = s.str.strip().str.lstrip("-").str.split(".", n=1).str[0].str.lstrip("0").str.len()
        huge = ok & (whole > len(str(limit)) - 2)     # more integer digits than the bound has: never parsed
        self.flag(huge, col, "amount out of range: ", value_of=col, suffix=f"; at most {limit_text(limit)}")
        ok &= ~huge
        c = cents_of(s.where(ok & (s != ""), ""))
        over = ok & (c.abs() > limit)
        self.flag(over, col, "amount out of range: ", value_of=col, suffix=f"; at most {limit_text(limit)}")
        if non_negative:
            self.flag(ok & ~over & (c < 0), col, "negative amount: ", value_of=col)
        return c.where(~(over | huge), 0)

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
        fast = _plain_instants(s)
        if fast is not None:
            return fast
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
        has_s = pd.Series(has, index=s.index)
        utc = pd.to_datetime(s.where((s != "") & has_s), utc=True, format="ISO8601", errors="coerce")
        self.flag((s != "") & ~has_s & require_offset, col, "no UTC offset: ", value_of=col)
        self.flag((s != "") & has_s & utc.isna(), col, "not an ISO 8601 instant: ", value_of=col)
        return utc, minutes.astype("Int64")

    def frame(self) -> pd.DataFrame:
        return self.df.loc[~self.bad]


_PLAIN_INSTANT = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"


def _plain_instants(s: pd.Series) -> tuple[pd.Series, pd.Series] | None:
    """:meth:`Checker.instant` for a column whose every cell is ``YYYY-MM-DDTHH:MM:SS`` with ``Z`` or
    ``±HH:MM`` (what machine exports write), without the per-row ISO 8601 parser: the same UTC
    instants and offsets, several times faster (issue 17). None when any cell is anything else (empty,
    fractions, another offset form, an impossible date): the general path judges those."""
    if not len(s):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(s, type=pa.string())
        if not pc.all(pc.match_substring_regex(arr, _PLAIN_INSTANT)).as_py():
            return None
        # arrow's ISO 8601 cast: the instant (offset applied), and the wall-clock time as written
        utc = arr.cast(pa.timestamp("s", tz="UTC"))
        local = pc.utf8_slice_codeunits(arr, 0, 19).cast(pa.timestamp("s"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    secs = utc.cast(pa.int64()).to_numpy(zero_copy_only=False)
    minutes = (local.cast(pa.int64()).to_numpy(zero_copy_only=False) - secs) // 60
    when = pd.Series(secs.astype("datetime64[s]"), index=s.index).dt.tz_localize("UTC")
    return when.astype("datetime64[us, UTC]"), pd.Series(minutes, index=s.index).astype("Int64")


def cents_of(s: pd.Series) -> pd.Series:
    """Vectorised exact text -> int cents for strings matching AMOUNT_RE ('' -> 0)."""
    if s.empty:
        return pd.Series([], index=s.index, dtype=np.int64)
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
