"""Progress bars on a terminal; silent in a pipe or under the worker."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def interactive() -> bool:
    return sys.stderr.isatty()


@contextmanager
def file_progress(total: int, label: str) -> Iterator[Callable[[str], None]]:
    if not interactive() or total <= 1:
        yield lambda _name: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as p:
        task = p.add_task(label, total=total)
        yield lambda _name: p.advance(task)


@contextmanager
def rows_progress(total_bytes: int, label: str, *, at_least: int = 32 << 20) -> Iterator[Callable[[int, int], None]]:
    """A bar over one big file read in blocks: ``advance(rows, nbytes)`` after each block. Shown on a
    terminal for a file of ``at_least`` bytes; silent otherwise (a pipe, the worker, small files)."""
    if not interactive() or total_bytes < at_least:
        yield lambda _rows, _nbytes: None
        return
    from rich.progress import DownloadColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn(), transient=True) as p:
        task = p.add_task(label, total=total_bytes, rows=0)
        counted = [0]

        def advance(rows: int, nbytes: int) -> None:
            counted[0] += rows
            p.update(task, advance=nbytes, rows=counted[0])

        yield advance
