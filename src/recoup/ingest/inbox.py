"""The inbox folders: every file dropped into ``inbox.shipments``, ``inbox.scans`` or
``inbox.invoices`` is loaded once, then moved beside it:

- ``archive/<name>`` when it was loaded (even with some rows rejected: ``archive/<name>.reason``
  then lists the rejected rows);
- ``rejected/<name>`` with ``rejected/<name>.reason`` when it was refused whole (or every row of it
  was rejected).

Order: shipments first (scans and invoices are judged against the manifest), then scans, then
invoices, each folder's files sorted by name. Matching the credits of the invoices loaded with claims is
the claims flow's, not this module's: the command or job that ran the inbox reconciles after it
(``InboxRun.invoices_loaded``).

Nothing is read twice or lost: a file is moved only after its transaction committed (``ingest_file``
commits before it returns); a crash between the commit and the move leaves the file in the inbox and
the next run reads it again, which stores nothing new (ingest is idempotent). A name already taken
in ``archive/`` or ``rejected/`` gets a suffix (``name-1.csv``); nothing is overwritten.

Files whose name starts with ``.`` or ends with ``.tmp``, ``.part``, ``.partial``, ``.filepart``,
``.crdownload`` or ``.reason`` are left alone: uploaders should write under such a name and rename
the file into place when it is complete.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoup.clock import Clock
from recoup.settings import Settings

if TYPE_CHECKING:   # the readers (pandas) load when files are ingested, not when `worker status` lists folders
    from sqlalchemy.engine import Engine

    from recoup.ingest.service import FileSummary
    from recoup.sla.contracts import ContractSet

log = logging.getLogger(__name__)

KINDS = ("shipments", "scans", "invoices")
ARCHIVE = "archive"
REJECTED = "rejected"
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".reason")


@dataclass
class InboxRun:
    files: list[FileSummary] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)        # source path -> where it went
    stopped: bool = False                                      # the stop flag cut the run short
    folders: int = 0                                           # inbox folders configured
    retry: list[str] = field(default_factory=list)             # left in place after a transient failure

    def counts(self) -> dict[str, int]:
        archived = sum(1 for dst in self.moved.values() if Path(dst).parent.name == ARCHIVE)
        out = {
            "files": len(self.files),
            "archived": archived,
            "rejected_files": len(self.moved) - archived,
            "stored": sum(s.stored for s in self.files),
            "duplicates": sum(s.duplicates for s in self.files),
            "rejected_rows": sum(s.rejected for s in self.files),
        }
        if self.stopped:
            out["stopped"] = 1
        return out

    @property
    def invoices_loaded(self) -> bool:
        """Invoices were stored: their credits wait to be matched with claims."""
        return any(s.invoices for s in self.files)


def inbox_folders(settings: Settings) -> list[tuple[str, Path]]:
    """The configured inbox folders, in the order they are read."""
    out = []
    for kind in KINDS:
        folder = getattr(settings.inbox, kind)
        if folder is not None:
            out.append((kind, Path(folder)))
    return out


def pending_files(folder: Path) -> list[Path]:
    """Files waiting in one inbox folder, sorted by name."""
    if not folder.is_dir():
        return []
    out = []
    for p in folder.iterdir():
        name = p.name
        if name.startswith(".") or name.lower().endswith(IGNORED_SUFFIXES) or not p.is_file():
            continue
        out.append(p)
    return sorted(out, key=lambda p: p.name)


def ingest_inbox(engine: Engine, settings: Settings, contracts: ContractSet | None, *, clock: Clock,
                 stop: Callable[[], bool] | None = None,
                 on_file: Callable[[FileSummary, str], None] | None = None) -> list[FileSummary]:
    """Load every waiting file of the inbox folders and move it to archive/ or rejected/."""
    return run_inbox(engine, settings, contracts, clock=clock, stop=stop, on_file=on_file).files


def ingest_file(*args: Any, **kwargs: Any) -> FileSummary:
    """:func:`recoup.ingest.service.ingest_file`, imported when a file is loaded (pandas with it)."""
    from recoup.ingest.service import ingest_file as load

    return load(*args, **kwargs)


def run_inbox(engine: Engine, settings: Settings,
              contracts: ContractSet | Callable[[], ContractSet | None] | None, *, clock: Clock,
              stop: Callable[[], bool] | None = None,
              on_file: Callable[[FileSummary, str], None] | None = None) -> InboxRun:
    """As :func:`ingest_inbox`, with where each file went.

    ``contracts`` may be a function that loads them: it is called once, when the first file is loaded,
    so that an empty inbox (the worker's every tick) costs neither the contracts nor the ingest service.
    ``stop`` is checked between files: when it says so, the run ends after the file in hand (loaded
    and moved), leaving the rest for the next run.
    """
    loaded: list[ContractSet | None] = []

    def contracts_now() -> ContractSet | None:
        if not loaded:
            loaded.append(contracts() if callable(contracts) else contracts)
        return loaded[0]

    run = InboxRun()
    folders = inbox_folders(settings)
    run.folders = len(folders)
    for kind, folder in folders:
        if not folder.is_dir():
            log.warning("inbox folder for %s does not exist: %s", kind, folder)
            continue
        for path in pending_files(folder):
            if stop is not None and stop():
                run.stopped = True
                break
            try:
                summary = ingest_file(engine, kind, path, clock=clock, contracts=contracts_now())
            except Exception as e:  # one file's failure is that file's, never the inbox's (issue 15)
                from recoup.ingest.service import FileSummary

                summary = FileSummary(path=str(path), kind=kind)
                if transient(e):
                    # disk full, database unavailable or locked: nothing was stored (the file's
                    # transaction rolled back); the file stays where it is and the next run retries it
                    summary.refused = f"not loaded this time, retried on the next run: {_one_line(e)}"
                    log.warning("inbox %s: %s left in place: %s", kind, path.name, _one_line(e))
                    run.files.append(summary)
                    run.retry.append(str(path))
                    if on_file is not None:
                        on_file(summary, "")
                    continue
                log.exception("inbox %s: %s could not be loaded", kind, path.name)
                summary.refused = f"could not be loaded ({_one_line(e)}): a recoup defect, please report it"
            # ingest_file has committed (or recorded the refusal): only now does the file move.
            dst = _move_after_load(path, summary)
            run.files.append(summary)
            if dst is not None:
                run.moved[str(path)] = str(dst)
            log.info("inbox %s: %s -> %s (read %d, stored %d, duplicates %d, rejected %d%s)", kind, path.name,
                     dst.parent.name if dst else "left in place", summary.read, summary.stored,
                     summary.duplicates, summary.rejected, "; refused: " + summary.refused if summary.refused else "")
            if on_file is not None:
                on_file(summary, str(dst) if dst else "")
        if run.stopped:
            break
    return run


_TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EBUSY, errno.EIO, errno.ENOMEM}


def transient(e: BaseException) -> bool:
    """Whether a failure may pass by itself (disk full, database unavailable or locked): the file is
    then retried on the next run rather than moved to rejected/."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(e, OSError) and e.errno in _TRANSIENT_ERRNOS:
        return True
    if isinstance(e, OperationalError):
        return True
    if isinstance(e, DBAPIError) and e.connection_invalidated:
        return True
    return isinstance(e, MemoryError)


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text[:300]}" if text else type(e).__name__


def refused_whole(s: FileSummary) -> bool:
    """Refused whole: by the reader, or every row of it rejected (nothing stored or recognised)."""
    if s.refused:
        return True
    return s.rejected > 0 and not (s.stored or s.duplicates or s.updated)


def reason_text(s: FileSummary) -> str:
    lines = []
    if s.refused:
        lines.append(f"refused: {s.refused}")
    elif refused_whole(s):
        lines.append(f"refused: every row was rejected ({s.rejected})")
    else:
        lines.append(f"loaded with {s.rejected} row(s) rejected: read {s.read}, stored {s.stored}, "
                     f"duplicates {s.duplicates}")
    for e in s.errors:
        where = f"line {e.line}" if e.line is not None else "file"
        col = f", column {e.column}" if e.column else ""
        lines.append(f"{where}{col}: {e.reason}")
    return "\n".join(lines) + "\n"


def _move_after_load(path: Path, s: FileSummary) -> Path | None:
    if not path.exists():
        # another worker moved it while we read it (both loads are idempotent): nothing to do
        log.info("inbox: %s was moved by someone else", path)
        return None
    whole = refused_whole(s)
    folder = path.parent / (REJECTED if whole else ARCHIVE)
    folder.mkdir(exist_ok=True)
    reason = reason_text(s) if (whole or s.errors) else None
    return move_unique(path, folder, reason)


def move_unique(path: Path, folder: Path, reason: str | None = None) -> Path | None:
    """Move ``path`` into ``folder`` under its name, or ``<stem>-N<suffix>`` if that is taken; never
    overwrite. With ``reason``, ``<final name>.reason`` is written first. None if ``path`` vanished."""
    stem, suffix = _split(path.name)
    n = 0
    while True:
        name = path.name if n == 0 else f"{stem}-{n}{suffix}"
        dst = folder / name
        n += 1
        if dst.exists() or (folder / f"{name}.reason").exists():
            continue
        if reason is not None:
            try:
                with open(folder / f"{name}.reason", "x", encoding="utf-8") as f:
                    f.write(reason)
            except FileExistsError:
                continue
        try:
            _link_or_rename(path, dst)
        except FileExistsError:
            if reason is not None:
                (folder / f"{name}.reason").unlink(missing_ok=True)
            continue
        except FileNotFoundError:
            if reason is not None:
                (folder / f"{name}.reason").unlink(missing_ok=True)
            return None
        return dst


def _split(name: str) -> tuple[str, str]:
    p = Path(name)
    return p.stem, p.suffix


def _link_or_rename(src: Path, dst: Path) -> None:
    """Move without ever replacing an existing file: hard link then unlink (atomic no-clobber);
    where links are not supported, a rename after checking the name is free."""
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise FileNotFoundError(str(src)) from None
        if dst.exists():
            raise FileExistsError(str(dst)) from None
        os.rename(src, dst)
        return
    os.unlink(src)
