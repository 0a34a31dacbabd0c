"""Bulk reads and writes for the hot paths: SQLite executemany of tuples, PostgreSQL COPY into a
temporary table then one INSERT ... ON CONFLICT DO NOTHING; rows of a query as plain tuples through
the driver's cursor. No per-row ORM objects. The one place where recoup talks to the driver below
SQLAlchemy (ingest and the audit's findings and claims alike)."""

from __future__ import annotations

import datetime as dt
import io
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, insert, update

_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"


def _cell(v: Any, dialect: str) -> Any:
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            raise ValueError(f"naive datetime refused: {v!r}")
        if dialect == "sqlite":
            return v.astimezone(dt.UTC).strftime(_SQLITE_TS)
        return v
    return v


def frame_rows(df: pd.DataFrame, columns: Sequence[str], dialect: str, *,
               date_text: bool = False) -> list[tuple[Any, ...]]:
    """DataFrame -> list of tuples of plain Python values ready for the driver. Date columns (naive
    datetime64) give ``datetime.date``; with ``date_text`` on SQLite, the text sqlite3's date adapter
    would store for them (``date.isoformat()``), without a Python object per cell."""
    cols: list[list[Any]] = []
    for c in columns:
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            if dialect == "sqlite":
                cols.append(_sqlite_text(s))
            else:
                cols.append([None if pd.isna(x) else x.to_pydatetime() for x in s])
        elif s.dtype.kind == "M":  # naive datetime64: a date column (the day it falls on, NaT None)
            days = s.to_numpy().astype("datetime64[D]")
            if date_text and dialect == "sqlite":
                txt = np.datetime_as_string(days).astype(object)
                txt[np.isnat(days)] = None
                cols.append(txt.tolist())
            else:
                cols.append(days.astype(object).tolist())
        elif isinstance(s.dtype, pd.Int64Dtype):
            cols.append(s.to_numpy(dtype=object, na_value=None).tolist())  # type: ignore[call-overload]
        elif s.dtype.kind in "iu":
            cols.append(s.astype(object).tolist())
        elif s.dtype.kind == "b":
            cols.append([bool(x) for x in s])
        elif isinstance(s.dtype, pd.StringDtype):       # texts, missing ones None
            cols.append(s.to_numpy(dtype=object, na_value=None).tolist())  # type: ignore[call-overload]
        else:
            o = s.astype(object)
            vals = np.where(pd.isna(o).to_numpy(), None, o.to_numpy()).tolist()  # type: ignore[call-overload]
            if any(not isinstance(v, (str, type(None))) for v in vals[:50]):
                vals = [_cell(x, dialect) for x in vals]
            cols.append(vals)
    return list(zip(*cols, strict=True)) if cols else []


def _sqlite_text(s: pd.Series) -> list[str | None]:
    """UTC instants as SQLite's text (``%Y-%m-%d %H:%M:%S.%f``), vectorised (strftime is per row)."""
    if not len(s):
        return []
    utc = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    txt = np.strings.replace(np.datetime_as_string(utc, unit="us"), "T", " ")
    out: list[str | None] = txt.astype(object).tolist()
    if s.isna().any():
        for i in np.flatnonzero(s.isna().to_numpy()).tolist():
            out[i] = None
    return out


def insert_frame(conn: Connection, table: str, columns: Sequence[str], df: pd.DataFrame,
                 conflict: Sequence[str] | None = None) -> int:
    """:func:`insert_ignore` of a frame's columns. On PostgreSQL the frame goes to COPY as CSV written
    by pyarrow (no Python tuple per row; issue 17); elsewhere through :func:`frame_rows`."""
    return FrameInserter(conn, table, columns, conflict)(df)


class FrameInserter:
    """:func:`insert_frame` of successive frames into one table, in the caller's transaction.

    On PostgreSQL each frame goes to the server as CSV written by pyarrow, by COPY straight into the
    table under a savepoint, as ``psql \\copy`` would load it (COPY inserts in batches; an
    ``INSERT ... SELECT`` inserts row by row). A row that hits the unique key makes that COPY fail: the
    frame is then loaded again through a temporary table and ``INSERT ... ON CONFLICT DO NOTHING``,
    and so is every later frame of this inserter (a file that overlaps what is stored is likely to go
    on overlapping). The rows stored are the same either way: those whose key was not there.
    Every constraint is checked by the server in both (issue 17), except the per-row foreign-key
    checks of an inserter whose frames point only at rows its own transaction inserted
    (``own_parents``), when connected as a superuser (:meth:`_fk_checks`)."""

    def __init__(self, conn: Connection, table: str, columns: Sequence[str],
                 conflict: Sequence[str] | None = None, *, own_parents: bool = False) -> None:
        self.conn = conn
        # every foreign key of the frames points at a row this transaction inserted: it exists, and no
        # other transaction can see it, let alone delete it, before this one commits
        self.own_parents = own_parents
        self._skip_fk: bool | None = None
        self.table = table
        self.columns = list(columns)
        self.conflict = list(conflict) if conflict else None
        self.direct = True          # COPY straight into the table until a frame conflicts
        self._pending: tuple[threading.Thread, list[int | BaseException], Callable[[int], None]] | None = None

    def __call__(self, df: pd.DataFrame) -> int:
        """Insert the frame now; the number of rows stored."""
        self.wait()
        if df.empty:
            return 0
        conn = self.conn
        if conn.dialect.name != "postgresql":
            return insert_ignore(conn, self.table, self.columns,
                                 frame_rows(df, self.columns, conn.dialect.name, date_text=True), self.conflict)
        return self._load(_csv_bytes(df, self.columns))

    def submit(self, df: pd.DataFrame, done: Callable[[int], None]) -> None:
        """Insert the frame, ``done(rows stored)`` when it is in. On PostgreSQL the server loads it while
        the caller goes on (reads and checks the next frame: the two cores work at once); at most one
        frame is in flight and ``done`` is called from the caller's thread, by the next :meth:`submit` or
        :meth:`wait`. The connection must not be used by the caller before :meth:`wait`. Elsewhere the
        frame is inserted before this returns."""
        self.wait()
        if df.empty or self.conn.dialect.name != "postgresql":
            done(self(df))
            return
        data = _csv_bytes(df, self.columns)
        result: list[int | BaseException] = []

        def load() -> None:
            try:
                result.append(self._load(data))
            except BaseException as e:      # handed to the caller's thread by wait()
                result.append(e)

        t = threading.Thread(target=load, name="recoup-copy", daemon=True)
        t.start()
        self._pending = (t, result, done)

    def wait(self) -> None:
        """Until the frame in flight is in (its error raised here, in the caller's thread)."""
        if self._pending is None:
            return
        t, result, done = self._pending
        self._pending = None
        t.join()
        (got,) = result
        if isinstance(got, BaseException):
            raise got
        done(got)

    def __enter__(self) -> FrameInserter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.wait()
        elif self._pending is not None:     # the caller failed: let the load finish, the transaction rolls back
            self._pending[0].join()
            self._pending = None

    def _load(self, data: memoryview) -> int:
        raw: Any = self.conn.connection.dbapi_connection   # psycopg's: the DBAPI protocol has no copy() nor `with`
        assert raw is not None
        cols = ", ".join(self.columns)
        with raw.cursor() as cur:
            if self.direct:
                from psycopg import errors

                cur.execute("SAVEPOINT recoup_copy")
                try:
                    self._fk_checks(cur, on=False)
                    _copy(cur, f"COPY {self.table} ({cols}) FROM STDIN WITH (FORMAT csv)", data)
                except errors.UniqueViolation:
                    cur.execute("ROLLBACK TO SAVEPOINT recoup_copy")     # the setting goes back with it
                    cur.execute("RELEASE SAVEPOINT recoup_copy")
                    self.direct = False
                else:
                    n = cur.rowcount
                    self._fk_checks(cur, on=True)
                    cur.execute("RELEASE SAVEPOINT recoup_copy")
                    return int(n)
            tmp = _stage(cur, self.table, f"stage_{self.table}")
            _copy(cur, f"COPY {tmp} ({cols}) FROM STDIN WITH (FORMAT csv)", data)
            self._fk_checks(cur, on=False)
            n = _insert_staged(cur, self.table, cols, tmp, self.conflict)
            self._fk_checks(cur, on=True)
            return n

    def _fk_checks(self, cur: Any, *, on: bool) -> None:
        """The server's per-row foreign-key checks off (``on=False``) or back on, for frames whose parents
        this transaction owns (``own_parents``) -- half the time of a load (issue 17). The checks are
        triggers, which ``session_replication_role = replica`` does not fire; only a superuser may set it, or
        (PostgreSQL 15 on) a role granted ``SET ON PARAMETER session_replication_role``: for any other role
        the checks run, as before. ``SET LOCAL``: a rollback undoes it. Unique, NOT
        NULL and every other constraint are checked either way; recoup has no triggers of its own
        (docs/decisions.md, "Scans on PostgreSQL: COPY, and no per-row check of a file this load owns")."""
        if not self.own_parents:
            return
        if self._skip_fk is None:
            self._skip_fk = _may_set_replication_role(cur)
        if self._skip_fk:
            cur.execute(f"SET LOCAL session_replication_role = {'origin' if on else 'replica'}")


def _may_set_replication_role(cur: Any) -> bool:
    """Whether the session's role may set ``session_replication_role``: a superuser, or from PostgreSQL 15
    on a role the administrator granted it (``GRANT SET ON PARAMETER session_replication_role TO role``)."""
    cur.execute("SELECT current_setting('is_superuser') = 'on', current_setting('server_version_num')::int")
    superuser, version = cur.fetchone()
    if superuser or version < 150000:
        return bool(superuser)
    cur.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
    return bool(cur.fetchone()[0])


def _stage(cur: Any, table: str, name: str) -> str:
    """An empty temporary table ``name`` with ``table``'s columns, dropped at commit: no defaults nor
    constraints (``LIKE ... INCLUDING DEFAULTS`` would draw the id's sequence once per row for
    nothing); every column, so callers loading different columns of one table can share it. Its name."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DROP AS SELECT * FROM {table} WITH NO DATA")
    cur.execute(f"TRUNCATE {name}")
    return name


def _insert_staged(cur: Any, table: str, cols: str, stage: str, conflict: Sequence[str] | None) -> int:
    """The stage's rows into ``table``, those that hit the unique key left out; the stage emptied. The
    number stored."""
    target = f"({', '.join(conflict)})" if conflict else ""
    cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT {target} DO NOTHING")
    n = cur.rowcount
    cur.execute(f"TRUNCATE {stage}")
    return int(n)


def _copy(cur: Any, sql: str, data: memoryview) -> None:
    with cur.copy(sql) as cp:
        for i in range(0, len(data), 1 << 20):
            cp.write(data[i:i + (1 << 20)])


def _csv_bytes(df: pd.DataFrame, columns: Sequence[str]) -> memoryview:
    """The frame's columns as CSV for PostgreSQL's COPY, written by pyarrow: instants in UTC, dates as
    the day, NULL for None/NaN/NaT, every text quoted (an empty text stays empty, not NULL)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    data = {}
    for c in columns:
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            # written as UTC wall time + "+00": arrow formats a zoned timestamp 50x slower than a naive one
            utc = pa.array(s.dt.tz_convert("UTC"), type=pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
            data[c] = pc.binary_join_element_wise(utc.cast(pa.string()), "+00", "")
        elif s.dtype.kind == "M":       # naive datetime64: a date column, written YYYY-MM-DD
            data[c] = pa.array(s.to_numpy().astype("datetime64[D]"), type=pa.date32())
        elif s.dtype.kind in "iub" or isinstance(s.dtype, pd.Int64Dtype):
            data[c] = pa.array(s)
        elif isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
            data[c] = pa.array(s.array)       # already arrow text, its missing values null: no copy
        else:
            # text: None/NaN are NULL; anything else as its str (quoted: an empty text stays empty)
            o = s.astype(object)
            vals = np.where(pd.isna(o).to_numpy(), None, o.to_numpy())  # type: ignore[call-overload]
            data[c] = pa.array(vals, type=pa.string(), from_pandas=True)
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(data), buf, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return buf.getbuffer()


def insert_ignore(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]],
                  conflict: Sequence[str] | None = None) -> int:
    """Insert rows, skipping those that hit a unique key. Returns the number inserted."""
    if not rows:
        return 0
    dialect = conn.dialect.name
    cols = ", ".join(columns)
    raw: Any = conn.connection.dbapi_connection   # the driver's own: the DBAPI protocol has no copy() nor `with`
    if dialect == "sqlite":
        assert raw is not None
        before = raw.total_changes
        cur = raw.cursor()
        marks = ", ".join("?" for _ in columns)
        cur.executemany(f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({marks})", rows)
        return int(raw.total_changes - before)
    if dialect == "postgresql":
        assert raw is not None
        with raw.cursor() as cur:
            tmp = _stage(cur, table, f"tmp_{table}")
            with cur.copy(f"COPY {tmp} ({cols}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
            return _insert_staged(cur, table, cols, tmp, conflict)
    # any other database: portable, slower
    from sqlalchemy import text

    n = 0
    for r in rows:
        try:
            with conn.begin_nested():
                conn.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in columns)})"),
                             dict(zip(columns, r, strict=True)))
                n += 1
        except Exception:
            continue
    return n


# ----------------------------------------------------------------------------- rows of dicts (the audit's writes)

def raw_rows(conn: Connection, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """Rows as plain tuples through the driver's cursor (no per-row SQLAlchemy objects). ``?``
    placeholders are translated for drivers that use ``%s``."""
    raw: Any = conn.connection.dbapi_connection   # psycopg's: the DBAPI protocol has no copy() nor `with`
    assert raw is not None
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%", "%%").replace("?", "%s")
    cur = raw.cursor()
    try:
        cur.execute(sql, tuple(params))
        return list(cur.fetchall())
    finally:
        cur.close()


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:     # astimezone would take it for the machine's local time
            raise ValueError(f"naive datetime refused: {v!r}")
        return v.astimezone(dt.UTC).strftime(_SQLITE_TS)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert: the driver's executemany of tuples on SQLite, SQLAlchemy's executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    cols = list(rows[0])
    raw: Any = conn.connection.dbapi_connection   # psycopg's: the DBAPI protocol has no copy() nor `with`
    assert raw is not None
    cur = raw.cursor()
    cur.executemany(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                    _sqlite_tuples(rows, cols))
    cur.close()


def _sqlite_tuples(rows: list[dict[str, Any]], cols: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows as tuples for sqlite3, dates and instants as the text SQLAlchemy stores (each distinct
    value converted once: a run writes one ``now`` and few deadlines)."""
    return list(zip(*(_sqlite_column([r[c] for r in rows]) for c in cols), strict=True))


def update_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk update by id (``b_id`` in each row) of the other columns given."""
    if not rows:
        return
    cols = [c for c in rows[0] if c != "b_id"]
    if conn.dialect.name != "sqlite":
        conn.execute(update(table).where(table.c.id == bindparam("b_id")).values({c: bindparam(c) for c in cols}),
                     rows)
        return
    raw: Any = conn.connection.dbapi_connection   # psycopg's: the DBAPI protocol has no copy() nor `with`
    assert raw is not None
    cur = raw.cursor()
    cur.executemany(f"UPDATE {table.name} SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                    _sqlite_tuples(rows, [*cols, "b_id"]))
    cur.close()


# ----------------------------------------------------------------------------- columns (the audit's big writes)

Column = list[Any] | Any    # a column's values in row order, or one value for every row


def insert_columns(conn: Connection, table: Table, columns: dict[str, Column]) -> None:
    """Bulk insert of columns (the same rows as :func:`insert_many` of the dicts ``{name: value}``, without
    a dict per row; issue 17): on SQLite the driver's executemany of the zipped columns, each value as
    :func:`insert_many` converts it; on PostgreSQL one COPY straight into the table (CSV written by
    pyarrow): the rows are inserted as they come, a row that breaks a constraint fails the statement as
    the INSERT would. A column given as one value (not a list) holds it in every row."""
    lists = [v for v in columns.values() if isinstance(v, list)]
    n = len(lists[0]) if lists else 0
    if not n:
        return
    if any(len(v) != n for v in lists):
        raise ValueError(f"columns of different lengths for {table.name}")
    from itertools import repeat

    names = list(columns)
    raw: Any = conn.connection.dbapi_connection   # the driver's own: the DBAPI protocol has no copy() nor `with`
    assert raw is not None
    if conn.dialect.name == "sqlite":
        cols = [_sqlite_column(v) if isinstance(v, list) else repeat(_sqlite_const(v), n) for v in columns.values()]
        cur = raw.cursor()
        cur.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                        zip(*cols, strict=False))
        cur.close()
        return
    if conn.dialect.name != "postgresql":
        insert_many(conn, table, [dict(zip(names, r, strict=True)) for r in
                                  zip(*(v if isinstance(v, list) else repeat(v, n) for v in columns.values()),
                                      strict=False)])
        return
    data = _columns_csv({c: v if isinstance(v, list) else [v] * n for c, v in columns.items()})
    with raw.cursor() as cur:
        _copy(cur, f"COPY {table.name} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)", data)


def _sqlite_const(v: Any) -> Any:
    """One value as :func:`_sqlite_tuples` converts it (dates, instants and booleans; the rest as is)."""
    return _sqlite_value(v) if isinstance(v, (dt.date, bool)) else v


def _sqlite_column(vals: list[Any]) -> list[Any]:
    """A column's values for sqlite3: dates and instants as the text SQLAlchemy stores, booleans as 0/1,
    when its first value that is not None is one of them (each distinct value once); else as it is."""
    sample = next((v for v in vals if v is not None), None)     # a column holds one type
    if not isinstance(sample, (dt.date, bool)):
        return vals
    return each_distinct(_sqlite_value, vals)


def each_distinct(fn: Callable[[Any], Any], vals: list[Any]) -> list[Any]:
    """``[fn(v) for v in vals]``, ``fn`` called once per distinct value (and type: 1 and True, a date and a
    datetime stay apart): a run writes one ``now`` and few deadlines."""
    if len(set(map(type, vals)) - {type(None)}) <= 1:      # one type: a value is its own key
        one = {v: fn(v) for v in set(vals)}
        return list(map(one.__getitem__, vals))
    keys = [(type(v), v) for v in vals]
    seen = {k: fn(k[1]) for k in set(keys)}
    return [seen[k] for k in keys]


def _columns_csv(columns: dict[str, list[Any]]) -> memoryview:
    """Columns of plain Python values as CSV for PostgreSQL's COPY, written by pyarrow: NULL for None,
    every text quoted (an empty text stays empty), booleans ``true``/``false``, dates ISO, instants
    as their UTC ISO text (refused when naive)."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    data = {}
    for c, vals in columns.items():
        sample = next((v for v in vals if v is not None), None)
        if isinstance(sample, dt.datetime):
            vals = each_distinct(_utc_text, vals)      # a run writes one instant in most rows
        arr = pa.array(vals, from_pandas=False)
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.string())
        data[c] = arr
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(data), buf, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return buf.getbuffer()


def _utc_text(v: dt.datetime | None) -> str | None:
    if v is None:
        return None
    if v.tzinfo is None:
        raise ValueError(f"naive datetime refused: {v!r}")
    return v.astimezone(dt.UTC).isoformat()
