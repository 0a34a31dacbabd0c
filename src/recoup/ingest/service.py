"""Ingest orchestration: read a file with its reader, store the good rows in one transaction per
file, report what was read / stored / duplicate / rejected. Idempotent by the tables' unique keys."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.engine import Engine

from recoup.clock import Clock
from recoup.errors import FileRefused, RecoupError
from recoup.ingest.base import SCAN_COLUMNS, SHIPMENT_COLUMNS, ReadResult, RowError
from recoup.ingest.bounds import check_rows
from recoup.ingest.formats import Format, detect
from recoup.ingest.invoices import line_inserter, store_invoices
from recoup.ingest.stream import CHUNK_BYTES
from recoup.ingest.summary import FileSummary
from recoup.sla.contracts import ContractSet
from recoup.store.bulk import FrameInserter, frame_rows, insert_ignore
from recoup.store.db import inserted_id
from recoup.store.models import IngestedFile, Shipment, table_of

CHUNK = 5000


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ingest_files(engine: Engine, kind: str, paths: Sequence[Path], *, clock: Clock, input_format: str = "auto",
                 carrier: str | None = None, contracts: ContractSet | None = None,
                 on_file: Callable[[FileSummary], None] | None = None, progress: bool = False,
                 chunk_bytes: int | None = None) -> list[FileSummary]:
    """Load files, each in its own transaction; what each writes is stamped ``clock.now()``.
    ``progress``: a bar counting rows and bytes of a big streamed file (on a terminal only)."""
    out = []
    for p in paths:
        s = ingest_file(engine, kind, Path(p), clock=clock, input_format=input_format, carrier=carrier,
                        contracts=contracts, progress=progress, chunk_bytes=chunk_bytes)
        out.append(s)
        if on_file:
            on_file(s)
    return out


def ingest_file(engine: Engine, kind: str, path: Path, *, clock: Clock, input_format: str = "auto",
                carrier: str | None = None, contracts: ContractSet | None = None, progress: bool = False,
                chunk_bytes: int | None = None) -> FileSummary:
    """Read, check and store one file in one transaction. Canonical scans are streamed in blocks of
    ``chunk_bytes`` (default :data:`recoup.ingest.stream.CHUNK_BYTES`; 0 reads the whole file at once)."""
    summary = FileSummary(path=str(path), kind=kind)
    now = clock.now()
    digest = None
    try:
        if not path.is_file():
            raise FileRefused("no such file" if not path.exists() else "not a file")
        digest = sha256_of(path)
        fmt = detect(kind, path, input_format)
        summary.format = fmt.name
        if kind == "scans" and fmt.name == "canonical" and chunk_bytes != 0:
            _ingest_scan_stream(engine, path, digest, fmt, summary, now, carrier=carrier, contracts=contracts,
                                progress=progress, chunk_bytes=chunk_bytes or CHUNK_BYTES)
            return summary
        if kind == "invoices" and fmt.name in _STREAMED_INVOICES and chunk_bytes != 0 \
                and path.stat().st_size > (chunk_bytes or INVOICE_STREAM_ABOVE):
            try:
                _ingest_invoice_stream(engine, path, digest, fmt, summary, now, carrier=carrier, contracts=contracts,
                                       chunk_bytes=chunk_bytes or INVOICE_CHUNK_BYTES)
                return summary
            except (FileRefused, RecoupError, _WholeFile):
                # nothing of the streamed run is kept (its transaction rolled back): the whole-file
                # path decides, with its own message for a refused file
                summary = FileSummary(path=str(path), kind=kind, format=fmt.name)
        result = check_rows(_read(fmt, path, carrier), kind)
        summary.read = result.read
        summary.unknown_codes = result.unknown_codes
        summary.notes = list(result.notes)
        summary.errors = list(result.errors)
        if carrier and "carrier" in result.frame.columns and len(result.frame):
            result.frame["carrier"] = carrier
        with engine.begin() as conn:
            fid = _file_row(conn, path, digest, kind, fmt.name, now)
            if kind == "shipments":
                _store_shipments(conn, result.frame, fid, summary, now)
            elif kind == "scans":
                _store_scans(conn, result, fid, summary, contracts)
            else:
                store_invoices(conn, result, fid, summary, fmt.name, now, contracts)
            summary.rejected = _rejected(summary.errors)
            _finish_file_row(conn, fid, summary)
    except (FileRefused, RecoupError) as e:
        # nothing of a refused file is stored (its transaction rolled back), nor counted
        summary = FileSummary(path=str(path), kind=kind, format=summary.format, refused=str(e))
        _record_refusal(engine, path, digest, kind, summary, now)
    return summary


def _ingest_scan_stream(engine: Engine, path: Path, digest: str, fmt: Format, s: FileSummary, now: dt.datetime, *,
                        carrier: str | None, contracts: ContractSet | None, progress: bool,
                        chunk_bytes: int) -> None:
    """Canonical scans in blocks (bounded memory whatever the file's size), one transaction for the
    file: each block is checked (bounds included) and stored like a whole file's rows; duplicates
    across blocks are caught by the unique scan key; row errors keep the file's line numbers."""
    from recoup.progress import rows_progress
    from recoup.shipments.canonical import read_scans_chunks

    size = path.stat().st_size
    with rows_progress(size if progress else 0, f"ingest {path.name}") as advance, engine.begin() as conn:
        fid = _file_row(conn, path, digest, "scans", fmt.name, now)
        blocks = read_scans_chunks(path, chunk_bytes=chunk_bytes, on_bytes=lambda n: advance(0, n))
        # one inserter for the file: it learns whether the file overlaps the store; on PostgreSQL the
        # server loads a block while the next one is read and checked
        with _scan_inserter(conn) as inserter:
            for result in _guarded(blocks, fmt):
                result = check_rows(result, "scans")
                s.read += result.read
                s.unknown_codes.update(result.unknown_codes)
                s.notes.extend(result.notes)
                s.errors.extend(result.errors)
                if carrier and len(result.frame):
                    result.frame["carrier"] = carrier
                _store_scans(conn, result, fid, s, contracts, inserter)
                advance(result.read, 0)
        s.errors.sort(key=lambda e: e.line or 0)
        s.rejected = _rejected(s.errors)
        _finish_file_row(conn, fid, s)


INVOICE_STREAM_ABOVE = 64 << 20   # invoice files larger than this are read in batches (issue 17) ...
INVOICE_CHUNK_BYTES = 16 << 20    # ... of about this many bytes of whole invoices


class _WholeFile(Exception):
    """A file the batched invoice path cannot take exactly: read it whole instead."""


def _streamed_invoices() -> dict[str, Callable[..., Any]]:
    from recoup.invoices import fedex_csv, ups_billing

    return {"ups": ups_billing.read_stream, "fedex": fedex_csv.read_stream}


_STREAMED_INVOICES = ("ups", "fedex")


def _ingest_invoice_stream(engine: Engine, path: Path, digest: str, fmt: Format, s: FileSummary,
                           now: dt.datetime, *, carrier: str | None, contracts: ContractSet | None,
                           chunk_bytes: int) -> None:
    """UPS Billing Data or FedEx invoices in batches of whole invoices (bounded memory whatever the
    file's size), one transaction for the file, each batch stored as a whole file's rows are: the
    same invoices, row errors (in the same order), counts and notes as the whole-file path. A file
    it cannot take exactly raises _WholeFile (the caller rolls back and reads the file whole): an
    invoice whose rows are not together, or a bad row whose invoice is unknown (which refuses every
    invoice of the file)."""
    from recoup.invoices.charges.batches import NotContiguous

    reader_errors: list[RowError] = []
    over_errors: list[RowError] = []      # store_invoices' own: lines over the bound first, then invoices
    invoice_errors: list[RowError] = []
    parts: list[FileSummary] = []
    with engine.begin() as conn:
        fid = _file_row(conn, path, digest, "invoices", fmt.name, now)
        with _reader_errors(fmt):
            batches = _streamed_invoices()[fmt.name](path, chunk_bytes=chunk_bytes)
        # one inserter for the file: on PostgreSQL the server stores a batch's lines while the next is read
        try:
            with line_inserter(conn) as lines:
                for batch in _guarded(iter(batches), fmt):
                    batch = check_rows(batch, "invoices")
                    if any(e.invoice_number is None and e.line is not None for e in batch.errors):
                        raise _WholeFile("a bad row of no known invoice")
                    if carrier and len(batch.frame):
                        batch.frame["carrier"] = carrier
                    part = FileSummary(path=s.path, kind="invoices", errors=list(batch.errors))
                    store_invoices(conn, batch, fid, part, fmt.name, now, contracts, lines)
                    reader_errors.extend(batch.errors)
                    for e in part.errors[len(batch.errors):]:
                        (over_errors if e.column == "amount" else invoice_errors).append(e)
                    s.duplicates += part.duplicates
                    s.invoices.extend(part.invoices)
                    parts.append(part)
        except NotContiguous as e:
            raise _WholeFile(str(e)) from None
        s.stored = sum(p.stored for p in parts)        # counted as each batch's lines went in
        total = batches.total()
        s.read = total.read
        s.unknown_codes = total.unknown_codes
        s.notes = list(total.notes)
        s.errors = reader_errors + over_errors + invoice_errors
        s.rejected = _rejected(s.errors)
        _finish_file_row(conn, fid, s)


def _guarded(results: Iterator[ReadResult], fmt: Format) -> Iterator[ReadResult]:
    """A streaming reader's blocks; its unforeseen errors refuse the file as :func:`_read` does."""
    while True:
        with _reader_errors(fmt):
            r = next(results, None)
        if r is None:
            return
        yield r


def ingest_result(engine: Engine, kind: str, result: ReadResult, *, label: str, clock: Clock,
                  contracts: ContractSet | None = None) -> FileSummary:
    """Store rows that did not come from a file (webhooks, tracking pulls), like a file's."""
    now = clock.now()
    result = check_rows(result, kind)
    summary = FileSummary(path=label, kind=kind, format=result.format, read=result.read,
                          errors=list(result.errors), unknown_codes=result.unknown_codes, notes=list(result.notes))
    digest = hashlib.sha256(label.encode()).hexdigest()
    with engine.begin() as conn:
        fid = _file_row(conn, Path(label), digest, kind, result.format, now)
        if kind == "scans":
            _store_scans(conn, result, fid, summary, contracts)
        elif kind == "invoices":
            store_invoices(conn, result, fid, summary, result.format, now, contracts)
        else:
            _store_shipments(conn, result.frame, fid, summary, now)
        summary.rejected = len(summary.errors)
        _finish_file_row(conn, fid, summary)
    return summary


def _rejected(errors: Sequence[RowError]) -> int:
    """Rows rejected: each (line, invoice) once, and each error of the whole file."""
    return len({(e.line, e.invoice_number) for e in errors if e.line is not None}) \
        + sum(1 for e in errors if e.line is None)


@contextmanager
def _reader_errors(fmt: Format) -> Iterator[None]:
    """A reader bug or an input it did not foresee refuses the file, never a traceback."""
    try:
        yield
    except (FileRefused, RecoupError):
        raise
    except (ValueError, KeyError, TypeError, IndexError, UnicodeError, OSError) as e:
        raise FileRefused(f"cannot read as {fmt.name}: {type(e).__name__}: {e}") from None


def _read(fmt: Format, path: Path, carrier: str | None) -> ReadResult:
    reader = fmt.reader()
    with _reader_errors(fmt):
        if fmt.name == "pdf":
            return reader(path, carrier=carrier)
        return reader(path)


def _file_row(conn: Connection, path: Path, digest: str, kind: str, fmt: str, now: dt.datetime) -> int:
    res = conn.execute(table_of(IngestedFile).insert().values(
        path=str(path), sha256=digest, kind=kind, format=fmt, outcome="loading", at=now))
    return inserted_id(res)


def _finish_file_row(conn: Connection, fid: int, s: FileSummary) -> None:
    outcome = "loaded" if s.ok else ("partial" if s.stored or s.duplicates else "rejected")
    msg = "; ".join(f"line {e.line}: {e.column}: {e.reason}" for e in s.errors[:20]) or None
    conn.execute(update(IngestedFile).where(IngestedFile.id == fid).values(  # type: ignore[arg-type]
        outcome=outcome, read=s.read, stored=s.stored, duplicates=s.duplicates, rejected=s.rejected, message=msg))


def _record_refusal(engine: Engine, path: Path, digest: str | None, kind: str, s: FileSummary,
                    now: dt.datetime) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(table_of(IngestedFile).insert().values(
                path=str(path), sha256=digest or "", kind=kind, format=s.format, outcome="refused",
                read=s.read, message=s.refused, at=now))
    except Exception:
        pass


# ----------------------------------------------------------------------------------- shipments

_SHIP_DB_COLS = [c for c in SHIPMENT_COLUMNS if c != "line"]


def _store_shipments(conn: Connection, df: pd.DataFrame, fid: int, s: FileSummary, now: dt.datetime) -> None:
    if df.empty:
        return
    dialect = conn.dialect.name
    df = df.copy()
    existing = _existing_shipments(conn, df)
    key = df["carrier"] + "\x1f" + df["tracking_number"]
    is_new = ~key.isin(existing.keys())
    new = df.loc[is_new]
    cols = [*_SHIP_DB_COLS, "manifested", "file_id", "updated_at"]
    new = new.assign(manifested=True, file_id=fid, updated_at=pd.Timestamp(now))
    s.stored += insert_ignore(conn, "shipment", cols, frame_rows(new, cols, dialect), ["carrier", "tracking_number"])
    old = df.loc[~is_new]
    if old.empty:
        return
    rows = frame_rows(old, _SHIP_DB_COLS, dialect)
    changed = []
    for r, k in zip(rows, key[~is_new], strict=True):
        before = existing[k]
        # a re-sent row updates what it says; an empty cell or a missing column never blanks a known
        # value (a manifest whose header says `wt` for `weight` must not erase every weight)
        merged = tuple(b if _blank(v) else v for v, b in zip(r, before, strict=True))
        if tuple(_norm(v) for v in before) != tuple(_norm(v) for v in merged):
            changed.append(dict(zip(_SHIP_DB_COLS, merged, strict=True)))
    s.duplicates += len(old) - len(changed)
    if changed:
        t = table_of(Shipment)
        stmt = (t.update().where(t.c.carrier == bindparam("b_carrier"))
                .where(t.c.tracking_number == bindparam("b_tn"))
                .values({c: bindparam(c) for c in _SHIP_DB_COLS if c not in ("carrier", "tracking_number")}
                        | {"manifested": True, "file_id": fid, "updated_at": now}))
        params = [{**r, "b_carrier": r["carrier"], "b_tn": r["tracking_number"]} for r in changed]
        for p in params:
            p.pop("carrier")
            p.pop("tracking_number")
        conn.execute(stmt, params)
        s.updated += len(changed)


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _norm(v: Any) -> Any:
    if isinstance(v, str) and v and v.replace(".", "", 1).isdigit():
        try:
            from decimal import Decimal

            return Decimal(v).normalize()
        except ArithmeticError:
            return v
    if isinstance(v, dt.datetime):
        return v.isoformat()
    return v


def _existing_shipments(conn: Connection, df: pd.DataFrame) -> dict[str, tuple[Any, ...]]:
    t = table_of(Shipment)
    out: dict[str, tuple[Any, ...]] = {}
    tns = df["tracking_number"].unique().tolist()
    for i in range(0, len(tns), CHUNK):
        q = select(*[t.c[c] for c in _SHIP_DB_COLS], t.c.manifested).where(t.c.tracking_number.in_(tns[i:i + CHUNK]))
        for row in conn.execute(q):
            r = tuple(row)
            if not r[-1]:
                continue  # a parcel seen only on an invoice/scan: the manifest row is new information
            out[f"{r[1]}\x1f{r[0]}"] = r[:-1]
    return out


# ----------------------------------------------------------------------------------- scans

_SCAN_COLUMNS = ["carrier", "tracking_number", "occurred_at", "utc_offset_min", "status", "carrier_status_code",
                 "description", "city", "postal", "country", "exception_reason", "source", "file_id"]


def _scan_inserter(conn: Connection) -> FrameInserter:
    # own_parents: the one foreign key, file_id, is the file row this transaction inserted (_store_scans)
    return FrameInserter(conn, "scan_event", _SCAN_COLUMNS, ["carrier", "tracking_number", "occurred_at", "status"],
                         own_parents=True)


def _store_scans(conn: Connection, result: ReadResult, fid: int, s: FileSummary,
                 contracts: ContractSet | None, inserter: FrameInserter | None = None) -> None:
    df = result.frame
    if df.empty:
        return
    df = df.reindex(columns=SCAN_COLUMNS).copy()
    local = df["local_time"].notna() if "local_time" in df else pd.Series(False, index=df.index)
    if local.any():
        if inserter is not None:
            inserter.wait()               # the connection is free again
        df = _resolve_local(conn, df, local, contracts, s)
    before = len(df)
    df = df.drop_duplicates(["carrier", "tracking_number", "occurred_at", "status"])
    s.duplicates += before - len(df)
    df = df.assign(source=result.format, file_id=fid)

    def done(n: int, rows: int = len(df)) -> None:
        s.stored += n
        s.duplicates += rows - n

    if inserter is None:
        done(_scan_inserter(conn)(df))
    else:
        inserter.submit(df, done)


def _resolve_local(conn: Connection, df: pd.DataFrame, local: pd.Series, contracts: ContractSet | None,
                   s: FileSummary) -> pd.DataFrame:
    """Local wall-clock times without an offset that the reader could not place (UPS, FedEx, USPS
    scans whose location names no single zone): in the manifest's dest_timezone, else the contract's
    calendar.timezone; never UTC by assumption. The offset used is stored as utc_offset_min. Ambiguous times at the autumn change are
    taken as the first (daylight) occurrence; times skipped in spring move forward."""
    t = table_of(Shipment)
    tns = df.loc[local, "tracking_number"].unique().tolist()
    zones: dict[tuple[str, str], str | None] = {}
    accounts: dict[tuple[str, str], str | None] = {}
    for i in range(0, len(tns), CHUNK):
        q = select(t.c.carrier, t.c.tracking_number, t.c.dest_timezone, t.c.account_number).where(
            t.c.tracking_number.in_(tns[i:i + CHUNK]))
        for c, tn, tz, acct in conn.execute(q):
            zones[(c, tn)] = tz
            accounts[(c, tn)] = acct
    tz_col = []
    for c, tn in zip(df.loc[local, "carrier"], df.loc[local, "tracking_number"], strict=True):
        tz = zones.get((c, tn))
        if not tz and contracts is not None:
            k = contracts.match(c, accounts.get((c, tn)))
            tz = k.calendar.timezone if k else None
        tz_col.append(tz)
    tzs = pd.Series(tz_col, index=df.index[local], dtype=object)
    unresolved = tzs.isna()
    for ln in df.loc[tzs.index[unresolved], "line"]:
        s.errors.append(RowError(int(ln), "time", "local time without offset and no dest_timezone or "
                                 "contract time zone for this carrier: load the manifest or the contract first"))
    occurred = df["occurred_at"].copy()
    offsets = df["utc_offset_min"].astype("Int64").copy()
    for tz, idx in tzs.dropna().groupby(tzs.dropna()).groups.items():
        loc = df.loc[idx, "local_time"].dt.tz_localize(str(tz), ambiguous=np.ones(len(idx), dtype=bool),
                                                       nonexistent="shift_forward")
        utc = loc.dt.tz_convert("UTC")
        occurred.loc[idx] = utc
        # the offset the zone had at that instant (shifted spring times included)
        wall = loc.dt.tz_localize(None)
        offsets.loc[idx] = ((wall - utc.dt.tz_localize(None)).dt.total_seconds() // 60).astype("int64")
    df["occurred_at"] = pd.to_datetime(occurred, utc=True)
    df["utc_offset_min"] = offsets
    return df.drop(index=tzs.index[unresolved])
