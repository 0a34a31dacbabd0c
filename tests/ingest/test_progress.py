"""Progress on one big file (issue 14): the bar counts rows and bytes of a streamed scans file on a
terminal, and stays silent in a pipe."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

import recoup.progress as progress
from recoup.clock import SYSTEM
from recoup.ingest.service import ingest_file

from ..conftest import SMALL


def test_a_big_streamed_file_reports_rows_and_bytes(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, str]] = []
    steps: list[tuple[int, int]] = []

    @contextlib.contextmanager
    def recording(total_bytes: int, label: str, **_: object) -> Iterator[Callable[[int, int], None]]:
        seen.append((total_bytes, label))
        yield lambda rows, nbytes: steps.append((rows, nbytes))

    monkeypatch.setattr(progress, "rows_progress", recording)
    path = SMALL / "scans.csv"
    s = ingest_file(sqlite_engine, "scans", path, clock=SYSTEM, progress=True, chunk_bytes=64 << 10)
    assert s.stored > 0
    assert seen == [(path.stat().st_size, f"ingest {path.name}")]
    assert len(steps) > 1                                   # one step per block, not one at the end
    assert sum(r for r, _ in steps) == s.read
    assert sum(b for _, b in steps) <= path.stat().st_size


def test_silent_in_a_pipe(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(progress, "interactive", lambda: False)
    with progress.rows_progress(1 << 40, "ingest big.csv") as advance:
        advance(10, 1000)
    assert capsys.readouterr().err == ""


def test_shown_on_a_terminal_for_a_big_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "interactive", lambda: True)
    with progress.rows_progress(64 << 20, "ingest big.csv") as advance:
        advance(1000, 1 << 20)          # a rich bar: advancing it must not fail
    with progress.rows_progress(10, "ingest small.csv") as advance:
        advance(1, 10)                  # a small file: no bar (a no-op)
