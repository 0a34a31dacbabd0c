"""Copy a generated SQLite benchmark database into PostgreSQL, for the PostgreSQL audit benchmark.

    python bench/sqlite_to_pg.py /tmp/audit_1m.db postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/sqlite_to_pg.py /tmp/audit_1m_plus.db URL --above    # only the rows the target lacks

The schema is recoup's own (``init_db``); rows go by COPY, table by table in foreign-key order, ids
kept, then each id sequence is moved past the largest id. ``--above`` copies only rows whose id is
above the target table's largest (a day of new data appended to a copy of the SQLite database by
``gen_audit_data.py --append``). Instants are SQLite's UTC text, read by a UTC session.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text
from sqlmodel import SQLModel

import recoup.store.models  # noqa: F401 - registers the tables (init_db of an up-to-date database does not)
from recoup.store.db import init_db, make_engine


def copy(src: Path, url: str, above: bool = False) -> dict[str, int]:
    eng = make_engine(url)
    init_db(eng)
    lite = sqlite3.connect(src)
    have = {r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    out: dict[str, int] = {}
    raw = eng.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SET TIME ZONE 'UTC'")
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in have:
                continue
            cols = [c.name for c in table.columns]
            has_id = "id" in cols
            start = 0
            if above and has_id:
                cur.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}")
                start = int(cur.fetchone()[0])
            where = " WHERE id > ?" if has_id else ""
            rows = lite.execute(f"SELECT {', '.join(cols)} FROM {table.name}{where}", (start,) if has_id else ())
            n = 0
            with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
                while True:
                    batch = rows.fetchmany(100_000)
                    if not batch:
                        break
                    for r in batch:
                        cp.write_row(r)
                    n += len(batch)
            if has_id and n:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT max(id) FROM {table.name}))")
            out[table.name] = n
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        lite.close()
    with eng.connect() as conn:
        conn.execute(text("SELECT 1"))
    eng.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sqlite", type=Path)
    ap.add_argument("url")
    ap.add_argument("--above", action="store_true", help="only rows above the target's largest id")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    got = copy(a.sqlite, a.url, a.above)
    print(", ".join(f"{k} {v:,}" for k, v in got.items() if v), f"in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
