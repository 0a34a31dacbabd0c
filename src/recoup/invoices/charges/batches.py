"""Reading an invoice file in batches of whole invoices (issue 17): chunks of rows regrouped so that no
invoice is cut (:func:`whole_invoices`), the readers' notes added up across batches (:class:`Tally`)
and the batches a reader hands to ingest (:class:`Batches`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from recoup.ingest.base import ReadResult
from recoup.invoices.charges.columns import Column, invoice_frame


def rows_per_chunk(head: bytes, chunk_bytes: int) -> int:
    """About how many of the file's lines (judged by its first bytes) make ``chunk_bytes``."""
    per_line = len(head) / max(head.count(b"\n"), 1)
    return max(2, int(chunk_bytes / max(per_line, 1.0)))


class Tally:
    """What a reader's notes are made of: counts by kind and per-invoice notes, in file order. The
    tallies of a file's batches add up to the whole file's (:meth:`add`)."""

    def __init__(self, counts: Mapping[str, int], invoice_notes: Sequence[str] = ()) -> None:
        self.counts = Counter(counts)
        self.invoice_notes = list(invoice_notes)

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.invoice_notes.extend(other.invoice_notes)

    def render(self, fn: Callable[[Tally], list[str]]) -> list[str]:
        return fn(self)


class Batches:
    """A reader's batches of whole invoices (each a ReadResult with no notes), and once they are
    read, :meth:`total`: the file's row count, unknown codes and notes, as the whole-file read gives
    them."""

    def __init__(self, fmt: str, parts: Iterator[tuple[ReadResult, Tally]],
                 render: Callable[[Tally], list[str]]) -> None:
        self.format = fmt
        self._parts = parts
        self._render = render
        self._tally = Tally({})
        self._read = 0
        self._unknown: Counter[str] = Counter()
        self.lines = 0

    def __iter__(self) -> Iterator[ReadResult]:
        for result, tally in self._parts:
            self._tally.add(tally)
            self._read += result.read
            self._unknown.update(result.unknown_codes)
            yield result

    def total(self) -> ReadResult:
        return ReadResult(format=self.format, frame=invoice_frame(0, amount_cents=[], line=[]), read=self._read, errors=[],
                          unknown_codes=self._unknown, notes=self._tally.render(self._render))


class NotContiguous(Exception):
    """An invoice's rows are not together in the file: it cannot be read in batches of whole
    invoices (the caller reads the whole file instead)."""


def whole_invoices(chunks: Iterable[tuple[int, dict[int, Column]]], invoice: int
                   ) -> Iterator[tuple[int, dict[int, Column]]]:
    """Chunks of rows regrouped into batches of whole invoices: the rows of a chunk's last invoice
    (by the column at position ``invoice``; rows with no invoice number go with their neighbours)
    are carried over to the next chunk. NotContiguous when an invoice comes back after a batch held
    it. One invoice larger than a chunk is held whole."""
    carry: dict[int, Column] | None = None
    carry_first = 1
    seen: set[str] = set()

    def emit(first: int, cols: dict[int, Column]) -> tuple[int, dict[int, Column]]:
        numbers = {u for u in cols[invoice].used() if u}
        if numbers & seen:
            raise NotContiguous(f"invoice {sorted(numbers & seen)[0]} is not in one run of rows")
        seen.update(numbers)
        return first, cols

    for first, cols in chunks:
        if carry is not None:
            cols = {pos: Column.concat([carry[pos], c]) for pos, c in cols.items()}
            first = carry_first
        inv = cols[invoice]
        n = len(inv)
        filled = ~inv.blank()
        last = np.flatnonzero(filled)
        cut = n
        if len(last):
            others = np.flatnonzero(filled & (inv.codes != inv.codes[last[-1]]))
            cut = int(others[-1]) + 1 if len(others) else 0
        if cut:
            yield emit(first, {pos: c.take(slice(0, cut)) for pos, c in cols.items()})
        carry = {pos: c.take(slice(cut, n)) for pos, c in cols.items()} if cut < n else None
        carry_first = first + cut
    if carry is not None:
        yield emit(carry_first, carry)
