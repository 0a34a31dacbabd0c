"""Excel workbooks (``.xlsx``) read as the CSV text every header-based reader already consumes.

An ``.xlsx`` file is recognised by its content (a ZIP archive, magic ``PK\\x03\\x04``, holding
``xl/workbook.xml``), never by its name. Its first sheet with data is written once to a CSV file
(UTF-8, comma-delimited, ``\\n`` line ends) in a private temporary folder, and the CSV primitives
(:func:`recoup.ingest.csvutil.read_head`, :func:`recoup.ingest.csvutil.load_csv`,
:func:`recoup.invoices.charges.columns.read_head`, :func:`recoup.invoices.charges.columns.read_columns`)
read that text instead of the workbook: so format detection and every CSV reader (canonical
invoices and shipments, FedEx, DHL, UPS ...) take ``.xlsx`` without code of their own.

Cells become text as a CSV export would hold them, exactly:

- text as written (a line break inside a cell becomes a space, so line numbers stay row numbers);
- integers as their digits (a tracking ID stored as a number is ``792739080526``, never
  ``7.92739080526E+11``); floats through their shortest text (``repr``), never float arithmetic:
  ``12.3`` is ``12.3``; float noise from a spreadsheet formula (``12.300000000000001``) is rounded
  to the cent when it is within 1e-9 of one, else to at most nine decimals; a float with an
  integer value (``1.0``, ``7.92739080526E+11``) is its integer digits;
- dates as ``YYYY-MM-DD``; date-times as ``YYYY-MM-DDTHH:MM:SS`` (with the offset only when the
  cell has one: Excel stores none); booleans as ``true``/``false``.

Row ``n`` of the sheet is line ``n`` of the text: empty rows become blank lines, so the line
numbers readers report are the sheet's row numbers. Rows are padded with empty cells to the width
of the sheet's first row with data (the header). The workbook is read with openpyxl in read-only
mode, a row at a time, so memory stays bounded whatever the sheet's size.

A workbook that cannot be opened, or whose sheets hold no data, is refused (:class:`FileRefused`)
with one line saying what it looks like and what to do.
"""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import hashlib
import math
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from recoup.errors import FileRefused

ZIP_MAGIC = b"PK\x03\x04"
WORKBOOK_PART = "xl/workbook.xml"

_CENT = Decimal("0.01")
_NANO = Decimal("1e-9")

__all__ = ["Sheet", "is_workbook", "sheet_of", "text_path"]


@dataclass(frozen=True)
class Sheet:
    """The text form of a workbook: the CSV file, the sheet it came from, the header's row."""

    text: Path
    name: str
    header_row: int      # 1-based row of the first row with data
    rows: int            # rows written (the last row with data)


_LOCK = threading.Lock()
_CACHE: dict[tuple[str, int, int], Sheet] = {}
_TMP: Path | None = None


def _tmpdir() -> Path:
    global _TMP
    if _TMP is None:
        _TMP = Path(tempfile.mkdtemp(prefix="recoup-xlsx-"))
        atexit.register(shutil.rmtree, _TMP, True)
    return _TMP


def is_workbook(path: Path) -> bool:
    """Whether the file is an Excel workbook (a ZIP archive holding ``xl/workbook.xml``)."""
    try:
        with open(path, "rb") as f:
            if f.read(4) != ZIP_MAGIC:
                return False
    except OSError:
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return WORKBOOK_PART in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        # the magic of a ZIP but no readable archive: a damaged workbook or a damaged ZIP; say so
        # when the local header names a workbook part
        try:
            with open(path, "rb") as f:
                head = f.read(65536)
        except OSError:
            return False
        return b"xl/" in head or b"[Content_Types].xml" in head


def text_path(path: Path) -> Path:
    """The path to read as CSV text: the file itself, or the text of its first sheet with data
    when it is an ``.xlsx`` workbook."""
    path = Path(path)
    if not is_workbook(path):
        return path
    return sheet_of(path).text


def sheet_of(path: Path) -> Sheet:
    """The text form of an ``.xlsx`` workbook (converted once per file version, then cached)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise FileRefused(f"cannot read: {exc.strerror or exc}") from None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None and found.text.exists():
            return found
        out = _tmpdir() / (hashlib.sha256(repr(key).encode()).hexdigest()[:32] + ".csv")
        sheet = _convert(path, out)
        _CACHE[key] = sheet
        return sheet


def _convert(path: Path, out: Path) -> Sheet:
    try:
        import openpyxl
    except ModuleNotFoundError:  # pragma: no cover - a dependency of recoup
        raise FileRefused("an Excel workbook (.xlsx), and openpyxl is not installed: "
                          "install recoup's dependencies or export the sheet as CSV") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the workbook is damaged
        raise FileRefused(f"an Excel workbook (.xlsx) that cannot be opened ({type(exc).__name__}): "
                          "open and save it again in Excel, or export the sheet as CSV") from None
    try:
        for ws in wb.worksheets:
            sheet = _write_sheet(ws, out)
            if sheet is not None:
                return sheet
    except FileRefused:
        raise
    except Exception as exc:
        raise FileRefused(f"an Excel workbook (.xlsx) whose sheet cannot be read ({type(exc).__name__}): "
                          "open and save it again in Excel, or export the sheet as CSV") from None
    finally:
        wb.close()
    names = ", ".join(repr(ws.title) for ws in wb.worksheets) or "none"
    raise FileRefused(f"an Excel workbook (.xlsx) with no data in any sheet (sheets: {names}): "
                      "put the export's header row and rows in the first sheet, or export it as CSV")


def _write_sheet(ws: Any, out: Path) -> Sheet | None:
    """Write the sheet as CSV text; None when it holds no data."""
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()   # some writers record a wrong size: read every cell there is
    header_row = 0
    width = 0
    last = 0          # last row number written
    pending = 0       # empty rows seen since the last row with data
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        number = 0
        for values in ws.iter_rows(values_only=True):
            number += 1
            cells = [cell_text(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            if not cells:
                pending += 1
                continue
            if not header_row:
                header_row, width = number, len(cells)
            f.write("\n" * pending)
            pending = 0
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            w.writerow(cells)
            last = number
    if not header_row:
        return None
    return Sheet(text=out, name=str(ws.title), header_row=header_row, rows=last)


def cell_text(value: object) -> str:
    """A cell's value as the text a CSV export would hold (see the module's docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.splitlines()) if ("\n" in value or "\r" in value) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def float_text(value: float) -> str:
    """A float's exact text: its shortest representation, float noise rounded off (never float maths)."""
    if not math.isfinite(value):
        return ""
    try:
        d = Decimal(repr(value))
    except InvalidOperation:  # pragma: no cover - repr of a finite float is always a number
        return repr(value)
    if d == d.to_integral_value():
        return str(int(d))
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return format(d, "f")
    cents = d.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    if abs(d - cents) <= _NANO:
        return _trim(format(cents, "f"))
    return _trim(format(d.quantize(_NANO, rounding=ROUND_HALF_EVEN), "f"))


def _trim(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
