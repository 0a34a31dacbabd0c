"""Which readers exist for each kind of input, and recognising a file's format from its content.

``READERS`` is the registry: every reader object, in auto-detection order within its kind (the most
specific first). A reader module exports its own (``READER``, a :class:`~recoup.ingest.reader.Format`
with its name, kind, ``sniff`` and ``read``); adding a reader is one module and one line here.
"""

from __future__ import annotations

from pathlib import Path

from recoup.errors import FileRefused
from recoup.ingest.csvutil import read_head
from recoup.ingest.reader import Format, InputKind
from recoup.ingest.xlsx import is_workbook, sheet_of
from recoup.invoices import canonical as canonical_invoices
from recoup.invoices import dhl_mybill, fedex_csv, fedex_intl, pdf, ups_billing
from recoup.shipments import canonical, carrier_errors, easypost, fedex_track, ups_track, usps_track

# order matters for auto-detection: the most specific first
READERS: tuple[Format, ...] = (
    canonical.SHIPMENTS,
    canonical.SCANS,
    easypost.READER,
    fedex_track.READER,
    ups_track.READER,
    usps_track.READER,
    carrier_errors.READER,   # last: a carrier's error body (no results) is refused with the carrier's code and message
    pdf.READER,
    canonical_invoices.READER,
    dhl_mybill.READER,
    fedex_csv.READER,
    fedex_intl.READER,
    ups_billing.READER,
)
KINDS: tuple[InputKind, ...] = ("shipments", "scans", "invoices")
FORMATS: dict[str, list[Format]] = {kind: [r for r in READERS if r.kind == kind] for kind in KINDS}


def names(kind: str) -> list[str]:
    return ["auto", *(f.name for f in FORMATS[kind])]


def detect(kind: str, path: Path, requested: str = "auto") -> Format:
    fmts = FORMATS[kind]
    if requested != "auto":
        for f in fmts:
            if f.name == requested:
                return f
        raise FileRefused(f"unknown input format {requested!r} for {kind}; one of {', '.join(names(kind))}")
    try:
        head = read_head(path)
    except OSError as e:
        raise FileRefused(f"cannot read: {e.strerror}") from None
    if not head.strip():
        raise FileRefused("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        raise FileRefused(f"a ZIP archive, not an Excel workbook (.xlsx) or a {kind} file: unzip it and "
                          "ingest the files inside")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused("an old Excel (.xls) workbook: save it as .xlsx (or export the sheet as CSV) "
                          "and ingest that")
    if b"\x00" in head and not head.startswith(b"%PDF"):
        raise FileRefused(f"binary content, not a {kind} file")
    for f in fmts:
        if f.sniff(head):
            wider = _other_kind(kind, head, only=_WIDER.get(kind, ()))
            if wider is not None:     # e.g. a canonical invoice has every column a manifest needs
                raise FileRefused(_looks_like(kind, *wider))
            return f
    known = ", ".join(n for n in names(kind) if n != "auto")
    other = _other_kind(kind, head)
    if other is not None:
        raise FileRefused(_looks_like(kind, *other))
    advice = ("give --input-format if you know it" if len(names(kind)) > 2 else
              f"its header needs the columns {', '.join(_REQUIRED_HINT.get(kind, ()))} (formats.md)")
    if is_workbook(path):
        sheet = sheet_of(path)
        raise FileRefused(f"an Excel workbook whose first sheet with data ({sheet.name!r}, header row "
                          f"{sheet.header_row}) is not recognised as any {kind} format ({known}): put the "
                          f"export's header row first in the first sheet; {advice}")
    raise FileRefused(f"format not recognised as any {kind} format ({known}); {advice}")


_REQUIRED_HINT = {"shipments": ("tracking_number", "carrier", "service", "ship_date", "dest_postal", "dest_country")}
_NOT_SUGGESTED = {"carrier_error"}   # an error body is refused by its own reader, under `ingest scans`


# kinds whose headers hold every column another kind's sniff looks for: checked first
_WIDER = {"shipments": ("invoices",)}


def _looks_like(kind: str, other: str, fmt: str) -> str:
    article = "an" if other[0] in "aeiou" else "a"
    return f"this looks like {article} {other} file ({fmt} format), not {kind}: use `recoup ingest {other}`"


def _other_kind(kind: str, head: bytes, only: tuple[str, ...] | None = None) -> tuple[str, str] | None:
    """The other kind of input (and its format) a file is recognised as, for the refusal's advice."""
    for other, fmts in FORMATS.items():
        if other == kind or (only is not None and other not in only):
            continue
        for f in fmts:
            if f.name not in _NOT_SUGGESTED and f.sniff(head):
                return other, f.name
    return None
