"""Streaming CSV: a file read in blocks of about ``chunk_bytes``, each block a DataFrame exactly like
:func:`recoup.ingest.csvutil.load_csv` would give for those records (issue 17).

Peak memory is bounded by the block size, not the file's: a 10M-row scans export is read in pieces.
What each block carries is what ``load_csv`` gives for the whole file, restricted to the block's
records: the same cell text (stripped), the same ``line`` numbers (the first physical line of each
record, counted from the top of the file, right across blocks), the same record-shape row errors
(fewer or more fields than the header; a file that ends in the middle of a row) and the same refusals
(empty, binary, not UTF-8 with the byte offset in the file, no header, a column named twice, a
required column missing).

Two ways to read a block, chosen per block:

- **fast**: a block without any quote character (``"``), bare CR or blank line, whose every line has
  the header's number of fields, is parsed by pyarrow's CSV reader (C++); there each physical line
  is one record, so line numbers are a range.
- **exact**: any other block is read by Python's csv module, as ``load_csv`` reads every record shape
  (quoted line breaks, short and long rows, blank lines). Its last record is carried into the next
  block, so a block never ends inside a quoted field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from recoup.errors import FileRefused
from recoup.ingest.base import RowError, ragged_reason
from recoup.ingest.csvutil import checked_header
from recoup.ingest.xlsx import text_path

CHUNK_BYTES = 16 << 20          # about 180,000 canonical scan rows a block
_BOM = b"\xef\xbb\xbf"
# what str.strip() strips: every character Python calls whitespace, written out (computing it walks all
# 1.1M code points, 0.3 s at every import; tests/ingest/test_stream_whitespace.py checks the list)
_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
               "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


class CsvChunks:
    """Iterate a CSV file's records in blocks (DataFrames with the attrs of ``load_csv``).

    ``on_bytes(n)`` is called with the bytes consumed after each block (for a progress bar).
    The header is read when the object is made, so refusals of the file as a whole come first."""

    def __init__(self, path: Path, required: list[str], kind: str, optional: list[str] | None = None, *,
                 chunk_bytes: int = CHUNK_BYTES, on_bytes: Callable[[int], None] | None = None) -> None:
        self.path = text_path(Path(path))
        self.chunk_bytes = max(1, int(chunk_bytes))
        self.on_bytes = on_bytes
        try:
            self._f = open(self.path, "rb")  # noqa: SIM115 -- closed by the iterator
        except OSError as e:
            raise FileRefused(f"cannot read: {e.strerror}") from None
        try:
            self._header(required, kind, optional)
        except BaseException:
            self._f.close()
            raise

    # ------------------------------------------------------------------------------- the header

    def _header(self, required: list[str], kind: str, optional: list[str] | None) -> None:
        f = self._f
        head = f.read(65536)
        if b"\x00" in head:
            raise FileRefused("binary content, not a CSV file")
        self._bom = len(_BOM) if head.startswith(_BOM) else 0
        buf = head[self._bom:]
        eof = len(head) < 65536
        # the header is the first record that is not blank: read until it is complete
        while True:
            upto = len(buf) if eof else buf.rfind(b"\n") + 1
            got = _first_record(self._decode(buf[:upto], self._bom), complete=eof)
            if got is not None or eof:
                break
            more = f.read(65536)
            eof = not more
            buf += more
        if got is None:
            if not head.strip():
                raise FileRefused("the file is empty")
            raise FileRefused("no header row")
        header, end_line = got
        names, self.use, self.unknown = checked_header(header, required, kind, optional)
        self.names = names
        self.width = len(names)
        self.columns = [names[i] for i in self.use]
        self.known_columns = [*required, *(optional or [])]
        # the rest of the file after the header's last line
        nl = _nth_newline(buf, end_line)
        self._pending = buf[nl + 1:] if nl >= 0 else b""
        self._offset = self._bom + (nl + 1 if nl >= 0 else len(buf))     # bytes of the file before _pending
        self._line = end_line + 1                                        # the line _pending starts on
        self._records = 0

    @staticmethod
    def _decode(raw: bytes, base: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileRefused(f"not UTF-8 text (byte {base + e.start})") from None

    # ------------------------------------------------------------------------------- the blocks

    def __iter__(self) -> Iterator[pd.DataFrame]:
        try:
            yield from self._blocks()
        finally:
            self._f.close()

    def _blocks(self) -> Iterator[pd.DataFrame]:
        buf = self._pending
        self._pending = b""
        eof = False
        want = self.chunk_bytes
        while True:
            while not eof and len(buf) < want:
                more = self._f.read(max(want - len(buf), 1))
                eof = not more
                buf += more
            if not buf:
                return
            cut = buf.rfind(b"\n", 0, want)
            if cut < 0:
                cut = buf.find(b"\n")
            if cut < 0 or (eof and len(buf) <= want):
                cut = len(buf) - 1 if eof else -1
            if cut < 0:            # not one whole line yet: read on
                want *= 2
                continue
            block, rest = buf[: cut + 1], buf[cut + 1:]
            df, used = self._frame(block, last=eof and not rest)
            if used == 0:          # one record longer than the block (a quoted line break): a bigger block
                want = max(want, len(block)) * 2
                continue
            want = self.chunk_bytes
            buf = block[used:] + rest
            self._offset += used
            self._line += block.count(b"\n", 0, used)
            if self.on_bytes is not None:
                self.on_bytes(used)
            if df is not None and len(df):
                yield df
            if eof and not buf:
                return

    def _frame(self, block: bytes, *, last: bool) -> tuple[pd.DataFrame | None, int]:
        """The block's records as a frame, and how many bytes of the block they used."""
        text = self._decode(block, self._offset)
        fast = self._fast(block, last)
        if fast is not None:
            return fast, len(block)
        return self._exact(text, block, last)

    def _fast(self, block: bytes, last: bool) -> pd.DataFrame | None:
        if self.width < 2 or b'"' in block or block.count(b"\r") != block.count(b"\r\n"):
            return None
        lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        try:
            table = pacsv.read_csv(
                io.BytesIO(block),
                read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(self.width)],
                                               use_threads=False, block_size=max(len(block) + 1, 1 << 20)),
                parse_options=pacsv.ParseOptions(newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={f"c{i}": pa.string() for i in self.use},
                    include_columns=[f"c{i}" for i in self.use], strings_can_be_null=False,
                    quoted_strings_can_be_null=False))
        except (pa.ArrowInvalid, pa.ArrowException):
            return None       # a short or long row, a blank line...: the exact reader says which
        if table.num_rows != lines:
            return None       # blank lines skipped: line numbers are not a range
        data = {}
        for i, name in zip(self.use, self.columns, strict=True):
            col = pc.utf8_trim(table.column(f"c{i}"), characters=_WHITESPACE)
            data[name] = pd.Series(pd.arrays.ArrowStringArray(col.combine_chunks()), dtype="str")
        df = pd.DataFrame(data)
        df["line"] = np.arange(self._line, self._line + lines, dtype=np.int64)
        self._records += lines
        return self._attrs(df, [], np.zeros(lines, dtype=bool))

    def _exact(self, text: str, block: bytes, last: bool) -> tuple[pd.DataFrame | None, int]:
        reader = csv.reader(io.StringIO(text))
        recs: list[tuple[int, list[str]]] = []     # (first line relative to the block, fields)
        start = 0
        try:
            for rec in reader:
                if not (not rec or (len(rec) == 1 and not rec[0].strip())):
                    recs.append((start, rec))
                start = reader.line_num
        except csv.Error as e:
            raise FileRefused(f"not a readable CSV: line {self._line - 1 + reader.line_num}: {e}") from None
        used = len(block)
        if not last:
            # the last record may go on in the next block (a quoted line break): carry it over
            if not recs:
                return None, len(block)       # blank lines only
            if len(recs) < 2:
                return None, 0                # one record or part of one: read on
            rel, _ = recs.pop()
            used = _nth_newline(block, rel) + 1
        if last and recs and block.count(b'"', _nth_newline(block, recs[-1][0]) + 1) % 2:
            # the file ends inside a quoted field (load_csv's parser refuses that too)
            raise FileRefused(f"not a readable CSV: the file ends inside a quoted field that starts on line "
                              f"{self._line + recs[-1][0]}")
        lines = np.fromiter((self._line + r for r, _ in recs), dtype=np.int64, count=len(recs))
        fields = np.fromiter((len(f) for _, f in recs), dtype=np.int64, count=len(recs))
        short, long_ = fields < self.width, fields > self.width
        kept = [f for _, f in recs if len(f) <= self.width]
        cols = {}
        for i, name in zip(self.use, self.columns, strict=True):
            cols[name] = pd.Series([f[i].strip() if i < len(f) else "" for f in kept], dtype="str")
        df = pd.DataFrame(cols) if kept else pd.DataFrame({c: pd.Series([], dtype="str") for c in self.columns})
        df["line"] = lines[~long_]
        cut = last and len(recs) > 0 and bool(short[-1]) and not text.endswith(("\n", "\r"))
        errors = []
        for i in np.flatnonzero(short | long_).tolist():
            why = ragged_reason(int(fields[i]), self.width, truncated=cut and i == len(recs) - 1)
            errors.append(RowError(int(lines[i]), None, why))
        self._records += len(recs)
        return self._attrs(df, errors, short[~long_]), used

    def _attrs(self, df: pd.DataFrame, errors: list[RowError], short: np.ndarray) -> pd.DataFrame:
        df.attrs["unknown_columns"] = list(self.unknown)
        df.attrs["known_columns"] = list(self.known_columns)
        df.attrs["header_columns"] = list(self.names)
        df.attrs["row_errors"] = errors
        df.attrs["short"] = short
        return df


def _first_record(text: str, *, complete: bool) -> tuple[list[str], int] | None:
    """The first non-blank record of ``text`` and the line it ends on (None if not complete yet)."""
    reader = csv.reader(io.StringIO(text))
    try:
        for rec in reader:
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            if not complete and reader.line_num >= text.count("\n"):
                return None      # it may go on past what was read so far
            return rec, reader.line_num
    except csv.Error as e:
        raise FileRefused(f"not a readable CSV: line {reader.line_num}: {e}") from None
    return None


def _nth_newline(buf: bytes, n: int) -> int:
    """Index of the n-th (1-based) newline byte in ``buf``, or -1."""
    if n <= 0:
        return -1
    idx = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10)
    return int(idx[n - 1]) if len(idx) >= n else -1
