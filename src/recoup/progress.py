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
