"""Reading the store into the audit's frames (:class:`~recoup.audit.rules.AuditFrames`).

A full load reads only the scans the rules need: every scan of a parcel without a final event
(delivered, returned, available for pickup), and for the others their final, lost and damaged
events and those with an exception reason (``relevant_scans`` in audit/rules/core.py says why that
is enough); the invoice lines with a positive amount, the account-level ones (no tracking number)
included. An incremental load reads the rows of the given (carrier, tracking number) keys through
the indexes. Rows are kept as compact columns (integers, categories, dates), never one Python object
per row for long. They come a batch at a time: a full read on SQLite as one text per row split by
pyarrow (:mod:`recoup.audit.packed`), on PostgreSQL through ``COPY ... TO STDOUT``; reads by key and
rows the packed read cannot split back exactly through the driver's cursor.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from recoup.audit.rules import (
    FINAL_STATUSES,
    LINE_FIELDS,
    SCAN_FIELDS,
    SHIPMENT_FIELDS,
    AuditFrames,
    prepare_frames,
)
from recoup.store.bulk import raw_rows

Key = tuple[str, str]
Range = tuple[str, str | None, str | None]     # carrier, tracking numbers from (inclusive), to (exclusive)

CHUNK = 900                     # keys per IN list (SQLite's variable limit is 32766; keep it modest)
PG_CHUNK = 10_000               # keys per array parameter on PostgreSQL
KEY_GROUP = 20_000              # keys read into one compact frame at a time
FULL_SCAN_SHARE = 0.3           # when more parcels than this lack a final event, read every scan at once


def _frame(rows: list[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    """Plain object columns (no string dtype conversion: the rules work on object arrays)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    a = np.array(rows, dtype=object)
    if a.ndim != 2:   # pragma: no cover - rows of sequences numpy could not stack
        a = np.array([tuple(r) for r in rows] + [(None,) * len(columns)], dtype=object)[:-1]
    return pd.DataFrame({c: pd.Series(a[:, j], dtype=object, copy=False) for j, c in enumerate(columns)})


# How the audit's columns are kept: i int64, I nullable Int64, c category, s object text, d date, t instant,
# b optional bool. Categories make the frames small and the rules' sorting, grouping and copying cheap.
KINDS = {
    "id": "i", "line_no": "i", "amount_cents": "i", "utc_offset_min": "I", "declared_value_cents": "I",
    "item_value_cents": "I", "tracking_number": "s", "promised_delivery": "s", "ship_date": "d",
    "invoice_date": "d", "occurred_at": "t", "dest_residential": "b", "address_validated": "b",
}
BATCH = 50_000
COPY_READS = True        # PostgreSQL: full reads through COPY ... TO STDOUT (CSV parsed by pyarrow)
PACKED_READS = True      # SQLite: full reads as one text per row, split by pyarrow (recoup.audit.packed)


def _column(values: np.ndarray, kind: str) -> Any:
    if kind == "i":
        return values.astype(np.int64)
    if kind == "I":
        missing = pd.isna(values)
        return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)
    if kind == "s":
        return values
    if kind == "b":
        return np.array([None if v is None else bool(v) for v in values], dtype=object)
    if kind == "t":
        return pd.to_datetime(values, utc=True, format="ISO8601")
    codes, uniq = pd.factorize(values)       # c, and d on its distinct values
    return _coded(np.asarray(codes, dtype=np.int64), uniq, kind)


def _coded(codes: np.ndarray, uniq: Any, kind: str) -> Any:
    """A category (``c``) or date (``d``, each distinct text parsed once) column from each row's code
    into the distinct values ``uniq`` (-1: missing)."""
    if kind == "d":
        days = pd.to_datetime(pd.Series(uniq, dtype=object), format="ISO8601").to_numpy(dtype="datetime64[ns]")
        return np.where(codes >= 0, days[np.maximum(codes, 0)] if len(days) else np.datetime64("NaT"),
                        np.datetime64("NaT")).astype("datetime64[ns]")
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniq, dtype=object))


class _CopyStream(io.RawIOBase):
    """The rows of a PostgreSQL ``COPY ... TO STDOUT`` as a file (one CopyData message per row)."""

    def __init__(self, copy: Any) -> None:
        self._rows = iter(copy)
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        out = memoryview(b).cast("B")
        n = 0
        while n < len(out):
            if not len(self._left):
                try:
                    self._left = memoryview(next(self._rows)).cast("B")
                except StopIteration:
                    break
            k = min(len(out) - n, len(self._left))
            out[n:n + k] = self._left[:k]
            self._left = self._left[k:]
            n += k
        return n


def _arrow_column(arr: Any, kind: str) -> Any:
    """One text column of a COPY read as the cursor read would give it to ``_column``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if kind == "t":
        if pa.types.is_string(arr.type):
            return _column(arr.to_numpy(zero_copy_only=False), kind)
        return pd.DatetimeIndex(arr.to_pandas())
    if kind == "i":
        return pc.cast(arr, pa.int64()).to_numpy()
    if kind == "I":
        ints = pc.cast(arr, pa.int64())
        return pd.arrays.IntegerArray(pc.fill_null(ints, 0).to_numpy(), pc.is_null(ints).to_numpy(zero_copy_only=False))
    if kind == "b":      # PostgreSQL's text t/f, SQLite's integer 0/1
        if pa.types.is_integer(arr.type):
            return _column(np.array(arr.to_pylist(), dtype=object), kind)
        return np.array([None if v is None else v == "t" for v in arr.to_pylist()], dtype=object)
    if kind in ("c", "d"):
        enc = pc.dictionary_encode(arr)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return _coded(codes, enc.dictionary.to_numpy(zero_copy_only=False).astype(object), kind)
    return _column(arr.to_numpy(zero_copy_only=False).astype(object), kind)


def _fetch_copy(conn: Connection, sql: str, params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
    """PostgreSQL: the rows as CSV through ``COPY (query) TO STDOUT``, parsed by pyarrow a block at a time
    (no Python object per row or per number); text NULL and "" kept apart (a NULL is unquoted, "" quoted)."""
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pcsv

    raw: Any = conn.connection.dbapi_connection
    assert raw is not None
    query = psycopg.ClientCursor(raw).mogrify(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
    types = {c: pa.timestamp("us", tz="UTC") if KINDS.get(c) == "t" else pa.string() for c in columns}
    parts: list[pd.DataFrame] = []
    with raw.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
        stream = io.BufferedReader(_CopyStream(copy), 1 << 20)
        if not stream.peek(1):
            return _frame([], columns)
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(column_names=list(columns), block_size=8 << 20),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True,
                                                quoted_strings_can_be_null=False))
        for batch in reader:
            if batch.num_rows:
                parts.append(pd.DataFrame({c: _arrow_column(batch.column(j), KINDS.get(c, "c"))
                                           for j, c in enumerate(columns)}))
    return _concat(parts, columns)


def _fetch(conn: Connection, sql: str, params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
    """A query's rows as compact columns (KINDS; other columns categories), a batch at a time."""
    if conn.dialect.name == "postgresql" and COPY_READS:
        return _fetch_copy(conn, sql, params, columns)
    if conn.dialect.name == "sqlite" and PACKED_READS:
        packed = _fetch_packed(conn, sql, params, columns)
        if packed is not None:
            return packed
    return _fetch_rows(conn, sql, params, columns)


def _fetch_rows(conn: Connection, sql: str, params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
    """:func:`_fetch` through the driver's cursor: a tuple per row, compacted a batch at a time."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%", "%%").replace("?", "%s")
    cur = raw.cursor()
    parts: list[pd.DataFrame] = []
    try:
        cur.execute(sql, tuple(params))
        while True:
            rows = cur.fetchmany(BATCH)
            if not rows:
                break
            parts.append(_compact(list(rows), columns))
            del rows
    finally:
        cur.close()
    return _concat(parts, columns)


def _fetch_packed(conn: Connection, sql: str, params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame | None:
    """SQLite: :func:`_fetch` through :mod:`recoup.audit.packed` (no Python object per value), or None
    when the rows would not split back exactly."""
    from recoup.audit.packed import Unsplittable, read_packed

    raw = conn.connection.dbapi_connection
    assert raw is not None
    parts: list[pd.DataFrame] = []
    try:
        for table in read_packed(raw, sql, params, columns, [c for c in columns if KINDS.get(c, "c") in "iIb"],
                                 BATCH):
            parts.append(pd.DataFrame({c: _arrow_column(table.column(j), KINDS.get(c, "c"))
                                       for j, c in enumerate(columns)}))
            del table
    except Unsplittable:
        return None
    return _concat(parts, columns)


def _compact(rows: list[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    if not rows:
        return _frame([], columns)
    a = np.array(rows, dtype=object)
    return pd.DataFrame({c: _column(a[:, j], KINDS.get(c, "c")) for j, c in enumerate(columns)})


def _objcat(cat: Any) -> pd.Categorical:
    """The same categorical with plain object categories (a union may infer another string dtype)."""
    return pd.Categorical.from_codes(np.asarray(cat.codes), categories=pd.Index(
        np.asarray(cat.categories, dtype=object), dtype=object))


def _concat(parts: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Frames of one shape, categories united."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _frame([], columns)
    if len(parts) == 1:
        return parts[0]
    out = {}
    for c in columns:
        vals = [p[c] for p in parts]
        if all(isinstance(v.dtype, pd.CategoricalDtype) for v in vals):
            out[c] = pd.Series(_objcat(pd.api.types.union_categoricals([_objcat(v.array) for v in vals])))
        else:
            out[c] = pd.concat(vals, ignore_index=True)
    return pd.DataFrame(out)


def by_keys(conn: Connection, sql: str, keys: Iterable[Key], lead: Sequence[object] = (), *,
            by_number: bool = False) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (ending in a WHERE clause) for (carrier, tracking_number) keys, a chunk at a time,
    through the (carrier, tracking_number) indexes. ``by_number``: the table has separate indexes on
    the carrier and on the tracking number (``finding``): SQLite, without statistics, would walk every
    row of the carrier for each chunk; the unary + keeps it on the tracking number's index."""
    carrier_col = "+carrier" if by_number and conn.dialect.name == "sqlite" else "carrier"
    by_carrier: dict[str, list[str]] = {}
    for c, t in keys:
        by_carrier.setdefault(c, []).append(t)
    out: list[tuple[Any, ...]] = []
    pg = conn.dialect.name == "postgresql"
    for carrier, tns in sorted(by_carrier.items()):
        tns = sorted(set(tns))
        if pg:       # one array parameter: psycopg parses no query of 900 placeholders per chunk
            for i in range(0, len(tns), PG_CHUNK):
                out += raw_rows(conn, f"{sql} carrier = ? AND tracking_number = ANY(?)",
                                [*lead, carrier, tns[i:i + PG_CHUNK]])
            continue
        for i in range(0, len(tns), CHUNK):
            part = tns[i:i + CHUNK]
            marks = ", ".join("?" for _ in part)
            out += raw_rows(conn, f"{sql} {carrier_col} = ? AND tracking_number IN ({marks})",
                            [*lead, carrier, *part])
    return out


def _frame_by_keys(conn: Connection, sql: str, keys: Iterable[Key], columns: Sequence[str],
                   lead: Sequence[object] = ()) -> pd.DataFrame:
    """:func:`by_keys` as a compact frame, ``KEY_GROUP`` keys at a time: the driver's row tuples (a
    hundred bytes and more a row) are never held for more than one group."""
    ks = sorted(set(keys))
    return _concat([_compact(by_keys(conn, sql, ks[i:i + KEY_GROUP], lead), columns)
                    for i in range(0, len(ks), KEY_GROUP)], columns)


# the shipment's id is read too, only to put the rows in id order (``_ordered``), then dropped
_SHIP_COLUMNS = ["id", *SHIPMENT_FIELDS]
_SHIP_SQL = f"SELECT {', '.join(_SHIP_COLUMNS)} FROM shipment WHERE manifested = ? AND ship_date IS NOT NULL"
_SCAN_SQL = f"SELECT {', '.join(SCAN_FIELDS)} FROM scan_event"
# account-level lines (no tracking number: fees, service and pickup charges) belong to no parcel
_LINE_SQL = f"SELECT {', '.join(LINE_FIELDS)} FROM invoice_line"
_ACCOUNT_SQL = _LINE_SQL + " WHERE amount_cents > 0 AND tracking_number IS NULL"
_SPECIAL = tuple(dict.fromkeys((*FINAL_STATUSES, "lost", "damaged")))
_SPECIAL_SQL = (f"{_SCAN_SQL} WHERE (status IN ({', '.join('?' for _ in _SPECIAL)}) "
                "OR exception_reason IS NOT NULL)")


def load_frames(engine: Engine, keys: Iterable[Key] | None = None, *, all_scans: bool = False) -> AuditFrames:
    """The audit's frames: every manifested shipment, or those of ``keys``. A full load reads only the
    scans the rules need (see the module docstring) unless ``all_scans``."""
    with engine.connect() as conn:
        return load(conn, None if keys is None else set(keys), all_scans)


def _range_sql(conn: Connection, ranges: Sequence[Range] | None) -> tuple[str, list[object]]:
    """A filter on a slice of the parcels. On SQLite the unary + keeps it off the indexes: one pass over the
    table is cheaper than an index walk with a table lookup per row."""
    if ranges is None:
        return "", []
    plus = "+" if conn.dialect.name == "sqlite" else ""
    terms: list[str] = []
    params: list[object] = []
    for carrier, lo, hi in ranges:
        t = [f"{plus}carrier = ?"]
        params.append(carrier)
        if lo is not None:
            t.append(f"{plus}tracking_number >= ?")
            params.append(lo)
        if hi is not None:
            t.append(f"{plus}tracking_number < ?")
            params.append(hi)
        terms.append("(" + " AND ".join(t) + ")")
    return " AND (" + " OR ".join(terms) + ")", params


def load(conn: Connection, keys: set[Key] | None, all_scans: bool, ranges: Sequence[Range] | None = None
          ) -> AuditFrames:
    true = True
    if keys is not None:
        parcels = {k for k in keys if k[1] != ""}
        ships = _frame_by_keys(conn, _SHIP_SQL + " AND", parcels, _SHIP_COLUMNS, [true])
        scans = (_frame_by_keys(conn, _SCAN_SQL + " WHERE", parcels, SCAN_FIELDS) if all_scans
                 else _relevant_by_keys(conn, parcels))
        # no "tracking_number IS NOT NULL" here (the IN list says it): SQLite would take it for a range
        # on the (carrier, tracking_number) index and walk the carrier's every line for each chunk
        lines = _frame_by_keys(conn, _LINE_SQL + " WHERE amount_cents > 0 AND", parcels, LINE_FIELDS)
        accounts = sorted({c for c, t in keys if t == ""})
        if accounts:
            marks = ", ".join("?" for _ in accounts)
            acct = _compact(raw_rows(conn, f"{_ACCOUNT_SQL} AND carrier IN ({marks})", accounts), LINE_FIELDS)
            lines = _concat([lines, acct], LINE_FIELDS)
        return _ordered(ships, scans, lines)
    where, wp = _range_sql(conn, ranges)
    ships = _fetch(conn, _SHIP_SQL + where, [true, *wp], _SHIP_COLUMNS)
    lines = _fetch(conn, _LINE_SQL + " WHERE amount_cents > 0 AND tracking_number IS NOT NULL" + where, wp, LINE_FIELDS)
    # account-level lines: read by the one slice of each carrier that starts at its first tracking number
    acct_carriers = None if ranges is None else sorted({c for c, lo, _ in ranges if lo is None})
    if acct_carriers is None or acct_carriers:
        a_where = "" if acct_carriers is None else f" AND carrier IN ({', '.join('?' for _ in acct_carriers)})"
        acct = _fetch(conn, _ACCOUNT_SQL + a_where, acct_carriers or [], LINE_FIELDS)
        lines = _concat([lines, acct], LINE_FIELDS)
    if all_scans:
        return _ordered(ships, _fetch(conn, _SCAN_SQL + " WHERE 1 = 1" + where, wp, SCAN_FIELDS), lines)
    special = _fetch(conn, f"{_SPECIAL_SQL}{where}", [*_SPECIAL, *wp], SCAN_FIELDS)
    ship_keys = ships["carrier"].to_numpy(dtype=object) + "\x1f" + ships["tracking_number"].to_numpy(dtype=object)
    final = _final_keys(special)
    open_ = ships[np.array([k not in final for k in ship_keys.tolist()], dtype=bool)]
    if len(open_) > FULL_SCAN_SHARE * max(len(ships), 1):
        scans = _fetch(conn, _SCAN_SQL + " WHERE 1 = 1" + where, wp, SCAN_FIELDS)
    else:
        scans = _with_rest(conn, special, zip(open_["carrier"].to_numpy(dtype=object),
                                              open_["tracking_number"].to_numpy(dtype=object), strict=True))
    return _ordered(ships, scans, lines)


def _final_keys(special: pd.DataFrame) -> set[str]:
    """The parcels (carrier U+001F tracking number) with a final event among these scans."""
    fin = special[np.isin(special["status"].to_numpy(dtype=object), FINAL_STATUSES)]
    return set((fin["carrier"].to_numpy(dtype=object) + "\x1f" + fin["tracking_number"].to_numpy(dtype=object)).tolist())


def _with_rest(conn: Connection, special: pd.DataFrame, open_: Iterable[Key]) -> pd.DataFrame:
    """The special scans and every scan of the parcels without a final event, each scan once."""
    rest = _frame_by_keys(conn, _SCAN_SQL + " WHERE", open_, SCAN_FIELDS)
    scans = _concat([special, rest], SCAN_FIELDS)
    return scans[~scans["id"].duplicated()].reset_index(drop=True)


def _relevant_by_keys(conn: Connection, parcels: set[Key]) -> pd.DataFrame:
    """The scans the rules need of these parcels, as a full load reads them (the module docstring):
    most parcels an incremental run judges have their final event, and most of their scans are not needed."""
    special = _frame_by_keys(conn, f"{_SPECIAL_SQL} AND", parcels, SCAN_FIELDS, _SPECIAL)
    final = _final_keys(special)
    return _with_rest(conn, special, (k for k in parcels if f"{k[0]}\x1f{k[1]}" not in final))


def _in_id_order(df: pd.DataFrame) -> pd.DataFrame:
    ids = df["id"].to_numpy()
    if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):
        return df
    return df.take(np.argsort(ids, kind="stable")).reset_index(drop=True)


def _ordered(ships: pd.DataFrame, scans: pd.DataFrame, lines: pd.DataFrame) -> AuditFrames:
    """The frames with their rows in id order (the order they were stored in), whatever order the
    database returned them in: PostgreSQL's scans come in any order (a scan joins one already running
    on the same table), and the findings, numbered in the order the rules meet the rows, must be the
    same rows run after run (same inputs and as-of, same ids)."""
    return prepare_frames(_in_id_order(ships), _in_id_order(scans), _in_id_order(lines))
