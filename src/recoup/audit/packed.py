"""SQLite reads of the full audit as Arrow columns: one text per row, split by pyarrow (issue 17).

The sqlite3 driver makes a Python object of every value it returns, and the audit's full read of
1M parcels is tens of millions of values: most of its time went into making those objects and then
packing them into compact columns again. Here SQLite writes each row's values into one text (``printf``,
the values separated by U+001F, a NULL written as the empty text), the driver makes one string per row,
and pyarrow's CSV reader splits a batch of rows into typed columns in C++. Which values were NULL is
told by one more column, an integer of one bit per column (``(a IS NULL) | (b IS NULL) << 1 ...``),
so a NULL and an empty text stay apart.

Exact or nothing: a value holding the separator or a line break would split differently, and the
reader then either refuses the batch (a row of another width) or returns more rows than the driver
gave. Both are checked; on either, :func:`read_packed` raises :class:`Unsplittable` and the caller reads the query
through the cursor, as before. The same SQLite library reads as writes (no second copy of SQLite in
the process, docs/decisions.md issue 17 item 9).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

SEP = "\x1f"
GROUP = 400_000      # rows turned into columns at once (the raw text of a group is then freed)


def packed_sql(sql: str, columns: Sequence[str]) -> str:
    """``sql`` (whose select list is ``columns``) as one text per row: the values, then the NULL bits."""
    if len(columns) > 62:    # pragma: no cover - the audit's widest read has 22 columns
        raise ValueError("too many columns for one integer of NULL bits")
    pattern = SEP.join("%s" for _ in columns) + SEP + "%d"
    bits = " | ".join(f"(({c} IS NULL) << {j})" for j, c in enumerate(columns))
    # printf writes the row in one allocation (a chain of || copies it once per column); its %s of NULL is ''
    return f"SELECT printf('{pattern}', {', '.join(columns)}, {bits}) FROM ({sql})"


class Unsplittable(Exception):
    """A value holds the separator or a line break: the rows cannot be split back exactly."""


def read_packed(raw: Any, sql: str, params: Sequence[object], columns: Sequence[str],
                int_columns: Sequence[str], batch: int) -> Iterator[Any]:
    """The rows of ``sql`` (fetched ``batch`` at a time) as pyarrow Tables of up to ``GROUP`` rows:
    ``int_columns`` int64, the others text, NULLs as NULL. Raises :class:`Unsplittable` (before or after some groups) when a value would
    not split back exactly; the caller then reads the query through the cursor."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [*columns, "__nulls"]
    ints = set(int_columns) | {"__nulls"}
    read = pcsv.ReadOptions(column_names=names, block_size=1 << 26)
    parse = pcsv.ParseOptions(delimiter=SEP, quote_char=False, double_quote=False, escape_char=False,
                              newlines_in_values=False, ignore_empty_lines=False)
    convert = pcsv.ConvertOptions(column_types={c: pa.int64() if c in ints else pa.string() for c in names},
                                  null_values=[""], strings_can_be_null=False, check_utf8=True)
    pending: list[Any] = []
    n = 0
    cur = raw.cursor()
    try:
        cur.execute(packed_sql(sql, columns), tuple(params))
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                break
            text = "\n".join([r[0] for r in rows]).encode("utf-8")
            try:
                table = pcsv.read_csv(io.BytesIO(text), read_options=read, parse_options=parse,
                                      convert_options=convert)
            except pa.ArrowInvalid as e:
                raise Unsplittable(str(e)) from None      # a row of another width: a value holds the separator
            if table.num_rows != len(rows):
                raise Unsplittable("a value holds a line break")
            pending.append(table)
            n += len(rows)
            del rows, text
            if n >= GROUP:
                yield _with_nulls(pa.concat_tables(pending), columns, ints)
                pending, n = [], 0
    finally:
        cur.close()
    if pending:
        yield _with_nulls(pa.concat_tables(pending), columns, ints)


def _with_nulls(table: Any, columns: Sequence[str], ints: set[str]) -> Any:
    """The text columns with NULL where the row's NULL bits say so (their empty text otherwise)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    nulls = table.column("__nulls").combine_chunks()
    out = {}
    for j, c in enumerate(columns):
        col = table.column(c).combine_chunks()
        if c not in ints:
            is_null = pc.not_equal(pc.bit_wise_and(nulls, pa.scalar(1 << j, pa.int64())), pa.scalar(0, pa.int64()))
            col = pc.if_else(is_null, pa.scalar(None, pa.string()), col)
        out[c] = col
    return pa.table(out)
