"""The ``Reader`` protocol (as beangulp's importers) and ``Format``, a reader made of two functions.

Each reader module (``recoup/shipments/*.py``, ``recoup/invoices/*.py``) exports its reader object
(``READER = Format(name, kind, sniff, read)``); :data:`recoup.ingest.formats.READERS` lists them in
detection order. This module imports nothing heavy: the PDF reader's worker processes load it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from recoup.ingest.base import ReadResult


InputKind = Literal["shipments", "scans", "invoices"]


@runtime_checkable
class Reader(Protocol):
    """One input format: recognises its files by content and reads them into a canonical frame."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> InputKind: ...

    def sniff(self, head: bytes) -> bool: ...

    def read(self, path: Path) -> ReadResult: ...


@dataclass(frozen=True)
class Format:
    """A :class:`Reader` made of a reader module's ``sniff`` and ``read`` functions.

    ``read`` may take keyword options after the path (the PDF reader: ``carrier``)."""

    name: str
    kind: InputKind
    sniff: Callable[[bytes], bool]
    read: Callable[..., ReadResult]

    def reader(self) -> Callable[..., ReadResult]:
        """The read function (what ``recoup.ingest.service`` calls)."""
        return self.read
