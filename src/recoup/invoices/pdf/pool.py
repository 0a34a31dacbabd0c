"""Worker processes under a deadline: each opens the file itself, reads a range of pages and sends
them back; past the time limit the workers are killed and the file refused (see the package
docstring, "Hostile files")."""

from __future__ import annotations

import itertools
import logging
import math
import multiprocessing as mp
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from recoup.errors import FileRefused
from recoup.invoices.pdf.pages import page_data

SMALL_FILE_PAGES = 8            # up to this many pages: one worker process reads them all
MIN_PAGES_PER_WORKER = 16       # more workers than pages / this is not worth their start-up
WORKER_MEMORY_BYTES = 3 * 1024**3
MAX_NOTES_FROM_PDFMINER = 5


class _Refuse(Exception):
    """Raised in a worker: the reason the file is refused."""


def _open_error(e: BaseException) -> str:
    cause = e
    for _ in range(10):  # pdfplumber wraps pdfminer's errors
        nxt = cause.__cause__ or cause.__context__
        if nxt is None:
            break
        cause = nxt
    name = type(cause).__name__
    text = f"{name}: {cause}"[:200]
    if name in ("PDFPasswordIncorrect", "PDFEncryptionError") or "password" in text.lower():
        return "the PDF is encrypted and needs a password to be read"
    if name in ("PSEOF", "PDFNoValidXRef") or "EOF" in text:
        return f"the PDF is truncated or corrupt ({text})"
    return f"not a readable PDF ({text})"


@contextmanager
def _captured(notes: list[str]) -> Iterator[None]:
    """pdfminer's warnings and log messages become notes instead of output or test errors."""

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            notes.append(f"pdfminer: {record.getMessage()}"[:200])

    log = logging.getLogger("pdfminer")
    handler, propagate, level = _Keep(logging.WARNING), log.propagate, log.level
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            notes.append(f"pdfminer: {w.category.__name__}: {w.message}"[:200])
    finally:
        log.removeHandler(handler)
        log.propagate, log.level = propagate, level


def _limit_memory() -> None:
    try:
        import resource
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = WORKER_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(hard, WORKER_MEMORY_BYTES)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
        pass


def _count_pages(path: str, max_pages: int) -> int:
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    with open(path, "rb") as f:
        try:
            doc = PDFDocument(PDFParser(f), password="")
        except Exception as e:
            raise _Refuse(_open_error(e)) from None
        n = 0
        try:
            for _ in PDFPage.create_pages(doc):
                n += 1
                if n > max_pages:
                    raise _Refuse(f"the PDF has more than {max_pages} pages (the limit)")
        except _Refuse:
            raise
        except Exception as e:
            raise _Refuse(_open_error(e)) from None
    if n == 0:
        raise _Refuse("the PDF has no pages")
    return n


def _worker(conn: Connection, path: str, first: int, last: int, max_pages: int, probe: bool) -> None:
    """A worker process: reads pages [first, last) and sends ("page", index, data) for each. The probe
    (first worker) counts the pages first and sends ("meta", n); it reads them all when there are at most
    SMALL_FILE_PAGES, else it stops there. Ends with ("done", stats) or ("refuse", reason)."""
    _limit_memory()
    notes: list[str] = []
    t0 = time.monotonic()
    done = 0
    try:
        with _captured(notes):
            if probe:
                n = _count_pages(path, max_pages)
                conn.send(("meta", n))
                if n > SMALL_FILE_PAGES:
                    last = first
                else:
                    first, last = 0, n
            if last > first:
                import pdfplumber
                try:
                    pdf = pdfplumber.open(path, pages=list(range(first + 1, last + 1)), raise_unicode_errors=False)
                except Exception as e:
                    raise _Refuse(_open_error(e)) from None
                with pdf:
                    for page in pdf.pages:
                        try:
                            item = page_data(page, positions=page.page_number == 1)
                        except MemoryError:
                            raise
                        except Exception as e:
                            raise _Refuse(f"page {page.page_number} cannot be read ({type(e).__name__}: {e})"[:250]) from None
                        page.close()
                        conn.send(("page", page.page_number - 1, item))
                        done += 1
        import resource
        use = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(("done", {"pages": done, "seconds": round(time.monotonic() - t0, 3),
                            "cpu_seconds": round(use.ru_utime + use.ru_stime, 3), "peak_rss_kb": use.ru_maxrss,
                            "notes": list(dict.fromkeys(notes))[:MAX_NOTES_FROM_PDFMINER]}))
    except _Refuse as e:
        conn.send(("refuse", str(e)))
    except MemoryError:
        conn.send(("refuse", f"reading the PDF needed more than {WORKER_MEMORY_BYTES // 1024**2} MiB of memory"))
    except RecursionError:
        conn.send(("refuse", "the PDF's structure is nested too deeply to be read"))
    except Exception as e:  # anything else pdfminer raises on a broken file
        conn.send(("refuse", _open_error(e)))
    finally:
        conn.close()


_preloaded = False


def _context() -> Any:
    """forkserver (POSIX): children forked from a clean single-threaded server with pdfplumber preloaded,
    so a worker starts quickly and a multi-threaded caller cannot deadlock it; spawn elsewhere. (This
    package is not preloaded: it is light, and `python -m recoup.invoices.pdf` would then warn.)"""
    global _preloaded
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    if not _preloaded:
        ctx.set_forkserver_preload(["pdfplumber"])
        _preloaded = True
    return ctx


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class Extraction:
    n_pages: int
    pages: list[dict[str, Any]]
    workers: list[dict[str, Any]] = field(default_factory=list)


def extract(path: Path, *, max_pages: int, timeout_s: float, workers: int | None) -> Extraction:
    ctx = _context()
    deadline = time.monotonic() + timeout_s
    procs: dict[Connection, Any] = {}
    pages: dict[int, dict[str, Any]] = {}
    stats: list[dict[str, Any]] = []
    n_pages: int | None = None

    def start(first: int, last: int, probe: bool) -> None:
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_worker, args=(w, str(path), first, last, max_pages, probe), daemon=True)
        p.start()
        w.close()
        procs[r] = p

    try:
        start(0, 0, True)
        while procs:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                done = f"{len(pages)} of {n_pages} pages" if n_pages else "before the pages were counted"
                raise FileRefused(f"gave up reading the PDF after {timeout_s:g} s (the time limit; {done} read)")
            for conn in wait(list(procs), timeout=remaining):
                assert isinstance(conn, Connection)
                try:
                    msg = conn.recv()
                except EOFError:
                    p = procs.pop(conn)
                    p.join(5)
                    conn.close()
                    raise FileRefused(f"the PDF reader stopped on this file (exit code {p.exitcode})") from None
                if msg[0] == "page":
                    pages[msg[1]] = msg[2]
                elif msg[0] == "meta":
                    n_pages = int(msg[1])
                    if n_pages > SMALL_FILE_PAGES:
                        k = max(1, min(workers or _cpus(), math.ceil(n_pages / MIN_PAGES_PER_WORKER)))
                        bounds = [round(i * n_pages / k) for i in range(k + 1)]
                        for a, b in itertools.pairwise(bounds):
                            start(a, b, False)
                elif msg[0] == "refuse":
                    raise FileRefused(str(msg[1]))
                elif msg[0] == "done":
                    stats.append(msg[1])
                    procs.pop(conn).join(5)
                    conn.close()
    finally:
        for conn, p in procs.items():
            if p.is_alive():
                p.kill()
            p.join(5)
            conn.close()
    assert n_pages is not None
    missing = [i + 1 for i in range(n_pages) if i not in pages]
    if missing:  # pragma: no cover - a worker said done without sending a page
        raise FileRefused(f"pages {missing[:5]} could not be read")
    return Extraction(n_pages, [pages[i] for i in range(n_pages)], stats)
