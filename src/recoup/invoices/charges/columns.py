"""Vectorised helpers shared by the carrier invoice readers (UPS, FedEx, DHL).

Every text column is handled through its distinct values: a column of a million cells usually
holds a few hundred distinct texts (dates, codes, prices), so each distinct text is checked and
converted once (amounts with :func:`recoup.money.to_cents`, never a float) and the results are
spread back to the rows with an index array. Missing cells are ``""`` (read with
``na_filter=False``); a cell that is blank after trimming is "no value".

Also here: the checks every reader makes on the first bytes of a file before reading it
(empty, binary, a workbook or PDF instead of CSV, UTF-16), and :class:`Problems`, which collects
row errors and marks the rows to leave out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from recoup.errors import FileRefused
from recoup.ingest.base import INVOICE_COLUMNS, ReadResult, RowError, ragged_reason
from recoup.ingest.xlsx import text_path
from recoup.invoices.charges.counts import plain_field_counts
from recoup.money import MoneyError, to_cents

HEAD_BYTES = 65536
CHUNK_ROWS = 200_000      # rows converted at a time by read_columns (memory stays bounded)

# a date format: (what people call it, a regex the whole text must match, the strptime format)
DateFormat = tuple[str, re.Pattern[str], str]
ISO_DATE: DateFormat = ("YYYY-MM-DD", re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d")
DMY_DATE: DateFormat = ("DD/MM/YYYY", re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), "%d/%m/%Y")
COMPACT_DATE: DateFormat = ("YYYYMMDD", re.compile(r"\d{8}"), "%Y%m%d")

NONE = np.array(None, dtype=object)   # None as an array scalar, for np.where(mask, values, NONE)


def missing(values: np.ndarray) -> np.ndarray:
    """Where an object array holds None (or NaN)."""
    return np.asarray(pd.isna(values), dtype=bool)


# an amount both patterns take and to_cents never refuses: at most 13 digits, then none or two decimals
_PLAIN_CENTS = re.compile(r"([+-]?[0-9]{1,13})(?:\.([0-9]{2}))?")
_AMOUNT = re.compile(r"[+-]?\d+(?:\.\d+)?")
_AMOUNT_THOUSANDS = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?")
_WEIGHT = re.compile(r"\d+(?:\.\d+)?")


# ---------------------------------------------------------------- the first bytes of a file


def read_head(path: Path, n: int = HEAD_BYTES) -> bytes:
    """The first bytes of the file's text (of its first sheet with data for an .xlsx workbook)."""
    try:
        with open(text_path(path), "rb") as f:
            return f.read(n)
    except OSError as exc:
        raise FileRefused(f"cannot read: {exc.strerror or exc}") from None


def refuse_non_text(head: bytes) -> None:
    """FileRefused for what is not CSV text at all, with a reason a person can act on."""
    if not head.strip():
        raise FileRefused("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        raise FileRefused("a ZIP archive, not an Excel workbook (.xlsx) or CSV text: unzip it, or export "
                          "the invoice as CSV or .xlsx")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused("an old Excel (.xls) workbook: save it as .xlsx or export the invoice as CSV")
    if head.startswith(b"%PDF"):
        raise FileRefused("a PDF, not a CSV file")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise FileRefused("UTF-16 text: save the file as UTF-8 CSV")
    if b"\x00" in head:
        raise FileRefused("binary content, not a CSV file")


def head_lines(head: bytes, limit: int = 6) -> list[str]:
    """The first complete, non-blank lines of the head (a last line cut off by the head is left out)."""
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if len(head) >= HEAD_BYTES and not text.endswith(("\n", "\r")) and lines:
        lines = lines[:-1]
    return [ln for ln in lines if ln.strip()][:limit]


def split_line(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error:
        return line.split(sep)


def best_delimiter(line: str, candidates: Sequence[str] = (",", ";")) -> str:
    """The candidate that splits the line into the most fields (ties: the first candidate)."""
    return max(candidates, key=lambda sep: (len(split_line(line, sep)), -candidates.index(sep)))


def norm_header(name: object) -> str:
    """Header names compare without case, spaces or punctuation: 'Weight(kg)' == 'Weight (kg)'."""
    return re.sub(r"[^0-9a-z]+", "", str(name).lower())


class HeaderLayout:
    """Where a header-based export keeps the columns a reader uses: ``position[role]`` for each role
    whose first matching header name (:func:`norm_header`) is present; ``missing`` names the required
    roles found under none of their names (by their first name). Readers subclass it for their pairs
    and groups of columns."""

    def __init__(self, header: list[str], required: Mapping[str, Sequence[str]],
                 optional: Mapping[str, Sequence[str]]) -> None:
        self.names = [norm_header(h) for h in header]
        self.header = header
        self.width = len(header)
        self.position: dict[str, int] = {}
        self.missing: list[str] = []
        for role, options in (dict(required) | dict(optional)).items():
            for option in options:
                key = norm_header(option)
                if key in self.names:
                    self.position[role] = self.names.index(key)
                    break
            else:
                if role in required:
                    self.missing.append(options[0])

    def name(self, role: str) -> str:
        """The role's column as the file heads it."""
        return self.header[self.position[role]].strip()


# ---------------------------------------------------------------- reading selected columns


class _Padded(io.RawIOBase):
    """A file's bytes after one extra line of ``width`` empty fields.

    pandas' C parser, reading selected columns (``usecols``) with given column names, needs some
    row as wide as the names; trimmed rows (UPS exports drop trailing empty columns) may leave it
    none. The extra first line, dropped after reading, gives it one, so only the used columns are
    converted: a million UPS rows read in seconds instead of converting all 250 columns.
    """

    def __init__(self, path: Path, first: bytes) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._first = first

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._first:
            n = min(len(view), len(self._first))
            view[:n] = self._first[:n]
            self._first = self._first[n:]
            return n
        data = self._file.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


def read_columns(path: Path, *, sep: str, width: int, positions: Sequence[int], what: str,
                 chunk_rows: int | None = None) -> dict[int, Column]:
    """The cells at ``positions`` (0-based) of every physical line, as :class:`Column` s.

    Row ``i`` of each column is line ``i + 1`` of the file (a header line included: callers skip
    it); blank lines are kept as blank rows so the numbering holds (quoted cells spanning lines
    would shift it: carrier exports have none). Rows shorter than ``width`` read as blank cells;
    cells beyond ``width`` are ignored. Read in chunks of rows, so memory stays bounded.
    """
    positions = sorted(set(positions))
    parts: dict[int, list[Column]] = {pos: [] for pos in positions}
    for _, chunk in iter_columns(path, sep=sep, width=width, positions=positions, what=what,
                                 chunk_rows=chunk_rows):
        for pos in positions:
            parts[pos].append(chunk[pos])
    if not parts[positions[0]]:
        return {pos: Column(np.zeros(0, dtype=object)) for pos in positions}
    return {pos: Column.concat(p) for pos, p in parts.items()}


def iter_columns(path: Path, *, sep: str, width: int, positions: Sequence[int], what: str,
                 chunk_rows: int | None = None) -> Iterator[tuple[int, dict[int, Column]]]:
    """:func:`read_columns` chunk by chunk: ``(first line, columns)``, row ``i`` of a chunk's columns
    being line ``first + i`` of the file."""
    positions = sorted(set(positions))
    raw = _Padded(text_path(Path(path)), (sep * (width - 1) + "\n").encode())
    first = 1
    try:
        with io.BufferedReader(raw, buffer_size=1 << 20) as stream, pd.read_csv(
            stream, sep=sep, header=None, names=list(range(width)), usecols=positions,
            index_col=False, dtype=object, keep_default_na=False, na_filter=False,
            skip_blank_lines=False, quotechar='"', encoding="utf-8", encoding_errors="replace",
            engine="c", chunksize=chunk_rows or CHUNK_ROWS,
        ) as chunks:
            for number, chunk in enumerate(chunks):
                if number == 0:
                    chunk = chunk.iloc[1:]  # the padding line
                if not len(chunk):
                    continue
                cols = {pos: Column(chunk[pos].to_numpy()) for pos in positions}
                del chunk
                yield first, cols
                first += len(cols[positions[0]])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileRefused(f"not readable as {what}: {first_line}") from None


def field_counts(path: Path, sep: str) -> np.ndarray:
    """The number of fields on each physical line (index i: line i + 1; a blank line has 0), read as
    a stream. Carrier exports have no quoted line breaks; a record that spans lines counts on its
    last line."""
    plain = plain_field_counts(text_path(Path(path)), sep)
    if plain is not None:
        return plain
    counts: list[int] = []
    with open(text_path(Path(path)), encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=sep)
        try:
            for rec in reader:
                while len(counts) < reader.line_num - 1:
                    counts.append(0)
                counts.append(len(rec))
        except csv.Error as exc:
            raise FileRefused(f"not a readable CSV: line {reader.line_num}: {exc}") from None
    return np.asarray(counts, dtype=np.int64)


def drop_ragged(result: ReadResult, path: Path, sep: str, width: int) -> ReadResult:
    """Rows with fewer or more fields than the header (``width``) become row errors and their lines
    leave the frame (issue 15: a row cut mid-amount must never load as a smaller amount). The row's
    invoice, when it was read, is named, so the invoice is refused whole."""
    return drop_ragged_lines(result, Ragged(path, sep), width)


class Ragged:
    """The number of fields on each line of a file (:func:`field_counts`) and whether its last line
    is cut short (no line end)."""

    def __init__(self, path: Path, sep: str) -> None:
        self.counts = field_counts(path, sep)
        with open(text_path(Path(path)), "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(size - 1, 0))
            self.ends_cut = size > 0 and f.read(1) not in (b"\n", b"\r")


def drop_ragged_lines(result: ReadResult, ragged_info: Ragged, width: int, lines: range | None = None) -> ReadResult:
    """:func:`drop_ragged` with the counts read, for the physical ``lines`` (all when None)."""
    counts = ragged_info.counts
    ragged = np.flatnonzero((counts != width) & (counts > 0))
    ragged = ragged[ragged > 0] + 1          # physical line numbers; line 1 is the header
    if lines is not None:
        ragged = ragged[(ragged >= lines.start) & (ragged < lines.stop)]
    if not len(ragged):
        return result
    frame = result.frame
    at = frame["line"].isin(ragged.tolist())
    invoice_of = dict(zip(frame.loc[at, "line"].tolist(), frame.loc[at, "invoice_number"].tolist(), strict=True))
    last = len(counts)
    for ln in ragged.tolist():
        n = int(counts[ln - 1])
        why = ragged_reason(n, width, truncated=ragged_info.ends_cut and ln == last and n < width)
        result.errors.append(RowError(ln, None, why, invoice_of.get(ln)))
    result.errors.sort(key=lambda e: (e.line or 0))
    result.frame = frame.loc[~at].reset_index(drop=True)
    return result


# ---------------------------------------------------------------- columns


class Column:
    """One text column, by its distinct values: ``codes[i]`` is row i's index in ``uniques``."""

    def __init__(self, values: np.ndarray | pd.Series) -> None:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        self._set(codes, [u.strip() if isinstance(u, str) else "" for u in uniques])

    def _set(self, codes: np.ndarray, stripped: Sequence[str]) -> None:
        # one more slot at the end for missing cells (code -1 indexes it)
        self.uniques = np.array([*stripped, ""], dtype=object)
        self.codes = np.where(codes < 0, len(stripped), codes).astype(np.int32)

    @classmethod
    def concat(cls, parts: Sequence[Column]) -> Column:
        """One column from the columns of consecutive chunks of rows."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0, *(len(p.uniques) for p in parts[:-1])])
        ids, uniques = pd.factorize(np.concatenate([p.uniques for p in parts]))
        out = cls.__new__(cls)
        out._set(np.concatenate([ids[p.codes + off] for p, off in zip(parts, offsets, strict=True)]),
                 list(uniques))
        return out

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, rows: slice | np.ndarray) -> Column:
        """The column's ``rows``, keeping only the distinct texts they use."""
        used, codes = np.unique(self.codes[rows], return_inverse=True)
        out = Column.__new__(Column)
        out.uniques = np.append(self.uniques[used], "").astype(object)
        out.codes = codes.reshape(-1).astype(np.int32)
        return out

    def used(self) -> list[str]:
        """The distinct trimmed texts that rows hold."""
        return self.uniques[np.unique(self.codes)].tolist()

    def apply(self, fn: Callable[[str], object], dtype: npt.DTypeLike = object) -> np.ndarray:
        """fn of each distinct text, spread to the rows."""
        return np.array([fn(u) for u in self.uniques], dtype=dtype)[self.codes]

    def blank(self) -> np.ndarray:
        return (self.uniques == "")[self.codes]

    def text(self) -> np.ndarray:
        """Trimmed texts, None where blank."""
        u = self.uniques.copy()
        u[u == ""] = None
        return u[self.codes]

    def raw(self) -> np.ndarray:
        """Trimmed texts, '' where blank."""
        return self.uniques[self.codes]

    def code(self) -> np.ndarray:
        """Trimmed upper-case texts ('' where blank), for comparing codes."""
        return self.apply(lambda u: u.upper())

    def cents(self, *, thousands: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(int64 cents, bad) per row; blank cells are 0 and not bad (check blank() separately).

        Amounts use '.' for decimals. With ``thousands`` (comma-delimited files) a comma is
        accepted only as a thousands separator (``1,234.50``); otherwise a comma is refused, as
        ``12,34`` may be a decimal comma and must never become 1234.
        """
        rx = _AMOUNT_THOUSANDS if thousands else _AMOUNT
        values = np.zeros(len(self.uniques), dtype=np.int64)
        bad = np.zeros(len(self.uniques), dtype=bool)
        plain = _PLAIN_CENTS.fullmatch
        for i, u in enumerate(self.uniques):
            if not u:
                continue
            if m := plain(u):       # what to_cents gives, without a Decimal: -0.50 -> "-0" "50" -> -50
                values[i] = int(m[1] + (m[2] or "00"))
                continue
            if rx.fullmatch(u):
                try:
                    values[i] = to_cents(u)
                    continue
                except MoneyError:
                    pass
            bad[i] = True
        return values[self.codes], bad[self.codes]

    def dates(self, formats: Sequence[DateFormat]) -> tuple[np.ndarray, np.ndarray]:
        """(datetime64[ns] naive midnight, NaT where blank or bad; bad) per row."""
        values = np.full(len(self.uniques), np.datetime64("NaT"), dtype="datetime64[ns]")
        bad = np.zeros(len(self.uniques), dtype=bool)
        for i, u in enumerate(self.uniques):
            if not u:
                continue
            parsed = _parse_date(u, formats)
            if parsed is None:
                bad[i] = True
            else:
                values[i] = np.datetime64(parsed, "ns")
        return values[self.codes], bad[self.codes]

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(decimal text or None, bad) per row: a weight is a non-negative decimal, kept as written."""
        text = self.text()
        bad = self.apply(lambda u: bool(u) and not _WEIGHT.fullmatch(u), dtype=bool)
        text[bad] = None
        return text, bad


def apply_distinct(columns: Sequence[Column], fn: Callable[..., object]) -> np.ndarray:
    """``fn(*texts)`` once per distinct combination of the columns' trimmed texts, spread to the rows."""
    n = len(columns[0])
    if n == 0:
        return np.zeros(0, dtype=object)
    keys = pd.DataFrame({i: c.codes for i, c in enumerate(columns)})
    group = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    _, first = np.unique(group, return_index=True)
    results = np.empty(len(first), dtype=object)
    results[:] = [fn(*(c.uniques[c.codes[i]] for c in columns)) for i in first]
    return results[group]


def _parse_date(text: str, formats: Sequence[DateFormat]) -> dt.date | None:
    for _, rx, fmt in formats:
        if rx.fullmatch(text):
            try:
                return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
            except ValueError:
                return None
    return None


def date_formats_text(formats: Sequence[DateFormat]) -> str:
    return " or ".join(name for name, _, _ in formats)


# ---------------------------------------------------------------- row errors


class Problems:
    """Row errors over vectorised checks; ``bad`` marks the rows to leave out."""

    def __init__(self, lines: np.ndarray, invoice_numbers: np.ndarray) -> None:
        self.lines = lines
        self.invoice_numbers = invoice_numbers
        self.bad = np.zeros(len(lines), dtype=bool)
        self._found: list[tuple[int, int, RowError]] = []

    def flag(self, mask: np.ndarray, column: str, reason: str, values: np.ndarray | None = None) -> None:
        """Rows where ``mask`` holds are bad for ``reason`` (followed by the cell when ``values``)."""
        idx = np.flatnonzero(mask)
        for i in idx:
            why = f"{reason}: {values[i]!r}" if values is not None else reason
            invoice = self.invoice_numbers[i]
            self._found.append((int(self.lines[i]), len(self._found),
                                RowError(int(self.lines[i]), column, why, invoice or None)))
        self.bad[idx] = True

    @property
    def errors(self) -> list[RowError]:
        return [e for _, _, e in sorted(self._found, key=lambda t: (t[0], t[1]))]


# ---------------------------------------------------------------- the canonical frame


def invoice_frame(n: int, **columns: object) -> pd.DataFrame:
    """INVOICE_COLUMNS from per-row arrays (or one value for all rows), with the canonical dtypes."""
    data: dict[str, object] = {}
    for name in INVOICE_COLUMNS:
        value = columns.get(name)
        if name in ("invoice_date", "ship_date"):
            arr = (np.asarray(value, dtype="datetime64[ns]") if value is not None
                   else np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
            data[name] = pd.Series(arr, dtype="datetime64[ns]")
        elif name in ("amount_cents", "line"):
            data[name] = pd.Series(np.asarray(value, dtype=np.int64), dtype="int64")
        else:
            if isinstance(value, np.ndarray):
                arr = value.astype(object)
            else:
                arr = np.empty(n, dtype=object)
                arr[:] = value
            data[name] = pd.Series(arr, dtype=object)
    return pd.DataFrame(data, copy=False)
