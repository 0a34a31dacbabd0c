"""Issue 12, the quarter replay: the public acceptance data (small) lands in the inbox day by day as it
would have arrived, and `worker run --once --as-of DAY` runs on each day of the quarter with every carrier
on the file channel; recoup files at least 99 % of the recoverable money before its window closes, in
USD and in GBP (before the one clock it was 33 % and 61 %)."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli import app
from recoup.leakage import judge_all
from recoup.money import from_cents
from recoup.store.db import make_engine

from .conftest import SMALL, split_by_day
from .test_clock_replay import _env

START = dt.date(2026, 8, 24)        # the first ship date of the set
END = dt.date(2026, 11, 16)         # the set's audit date (the credit notes are dated 2026-11-15)


@pytest.mark.slow
@pytest.mark.skipif(not SMALL.is_dir(), reason="the shared acceptance data is not there")
def test_a_quarter_of_replayed_days_files_99_percent_in_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = split_by_day(tmp_path / "days", per_carrier=None, start=START)
    box = _env(tmp_path, monkeypatch)
    runner = CliRunner()
    day = START
    while day <= END:
        data.drop(data.up_to(day) if day == START else data.on(day), box)
        res = runner.invoke(app, ["worker", "run", "--once", "--as-of", day.isoformat(), "--format", "json"])
        assert res.exit_code == 0, (day, res.output[-2000:])
        day += dt.timedelta(days=1)
    assert not box.waiting() and not box.rejected()
    eng = make_engine(os.environ["RECOUP_DATABASE_URL"])
    try:
        with eng.connect() as conn:
            judged = judge_all(conn, END)
    finally:
        eng.dispose()
    money: dict[str, dict[str, Decimal]] = {}
    for j in judged:
        m = money.setdefault(j.currency, {"recoverable": Decimal(0), "filed_in_time": Decimal(0)})
        m["recoverable"] += from_cents(j.amount_cents)
        if j.state == "filed_in_time":
            m["filed_in_time"] += from_cents(j.amount_cents)
    assert money.keys() == {"USD", "GBP"}
    for cur, m in money.items():
        print(f"quarter replay {cur}: filed in time {m['filed_in_time']} of {m['recoverable']} recoverable "
              f"({m['filed_in_time'] / m['recoverable']:.2%})")
        assert m["filed_in_time"] / m["recoverable"] >= Decimal("0.99"), (cur, m)
