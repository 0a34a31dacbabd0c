"""The CLI as people use it (issue 14): filters take codes as people type them and refuse what does
not exist; `--version`, `-h`; a closed pipe ends the output quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli import app

from .conftest import SMALL


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    db = tmp_path_factory.mktemp("filters") / "recoup.db"
    env = {"RECOUP_DATABASE_URL": f"sqlite:///{db}", "RECOUP_CONTRACTS": str(SMALL / "contracts")}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    mp.delenv("RECOUP_CONFIG", raising=False)
    assert run("init")[0] == 0
    assert run("ingest", "shipments", str(SMALL / "shipments.csv"))[0] == 0
    assert run("ingest", "scans", str(SMALL / "scans.csv"))[0] == 0
    assert run("audit", "--as-of", "2026-11-16")[0] == 0
    yield env
    mp.undo()


def test_carrier_codes_are_case_insensitive(audited: dict[str, str]) -> None:
    code, out, _ = run("findings", "--carrier", "ups", "--format", "json")
    lower = json.loads(out)
    assert code == 0 and lower
    code, out, _ = run("findings", "--carrier", "UPS", "--format", "json")
    assert code == 0 and json.loads(out) == lower
    code, out, _ = run("claims", "list", "--carrier", "FedEx", "--format", "json")
    claims = json.loads(out)
    assert code == 0 and claims and {c["carrier"] for c in claims} == {"fedex"}
    code, out, _ = run("claims", "list", "--carrier", "DPD-UK", "--format", "json")
    assert code == 0 and {c["carrier"] for c in json.loads(out)} == {"dpd_uk"}
    code, out, _ = run("findings", "--kind", "LATE_DELIVERY", "--format", "json")
    assert code == 0 and {f["kind"] for f in json.loads(out)} == {"late_delivery"}


@pytest.mark.parametrize(("args", "listed"), [
    (["findings", "--carrier", "upss"], "ups"),
    (["findings", "--kind", "late"], "late_delivery"),
    (["claims", "list", "--carrier", "fedx"], "fedex"),
    (["claims", "list", "--status", "open"], "needs_attention"),
])
def test_unknown_values_are_refused_with_the_list(audited: dict[str, str], args: list[str], listed: str) -> None:
    code, out, err = run(*args)
    assert code == 2, out + err
    assert listed in err and "unknown" in err and out == ""


def test_explain_a_lower_case_tracking_number(audited: dict[str, str]) -> None:
    code, out, _ = run("findings", "--carrier", "ups", "--format", "json")
    tn = json.loads(out)[0]["tracking_number"]
    assert tn != tn.lower()
    code, out, err = run("explain", tn.lower(), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["tracking_number"] == tn


RECOUP = str(Path(sys.executable).parent / "recoup")


def test_version_and_short_help() -> None:
    from importlib.metadata import version

    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"recoup {version('recoup')}"
    code, out, _ = run("-h")
    assert code == 0 and "Usage: recoup" in out and "findings" in out
    code, out, _ = run("findings", "-h")
    assert code == 0 and "--carrier" in out


def test_a_closed_pipe_ends_quietly_with_exit_0(audited: dict[str, str]) -> None:
    """`recoup findings --format csv | head -1`: no BrokenPipeError traceback, exit 0."""
    env = {**os.environ, **audited}
    for args in (["findings", "--format", "csv"], ["findings", "--format", "json"], ["claims", "list"]):
        p = subprocess.Popen([RECOUP, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert p.stdout is not None and p.stderr is not None
        first = p.stdout.readline()
        p.stdout.close()                      # what `head -1` does
        code = p.wait(timeout=120)
        err = p.stderr.read().decode()
        p.stderr.close()
        assert first and code == 0, (args, code, err)
        assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_tables_fit_120_columns_one_line_a_row(audited: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    for args, n in ((["findings"], None), (["claims", "list"], None), (["findings", "--limit", "7"], 7)):
        code, out, _ = run(*args, "--format", "json")
        total = len(json.loads(out))
        code, out, err = run(*args)
        assert code == 0, err
        lines = out.rstrip("\n").splitlines()
        assert max(len(x) for x in lines) <= 120, args
        shown = n or total
        assert len(lines) == shown + 6, (args, len(lines))      # title, blank, header, rule, rows, blank, footer
        assert f"{shown:,} row(s)" in lines[-1] and "total" in lines[-1]
    every = len(json.loads(run("findings", "--format", "json")[1]))
    code, out, err = run("findings", "--limit", "3")
    assert f"3 row(s) of {every} (--limit)" in out and "not shown to fit" in err


def test_columns_sort_and_limit(audited: dict[str, str]) -> None:
    code, out, _ = run("findings", "--format", "json")
    every = json.loads(out)
    code, out, _ = run("findings", "--sort", "-amount", "--limit", "3", "--columns", "id,amount", "--format", "json")
    top = json.loads(out)
    want = sorted(every, key=lambda f: Decimal(f["amount"]), reverse=True)[:3]
    assert top == [{"id": f["id"], "amount": f["amount"]} for f in want]
    code, out, _ = run("claims", "list", "--columns", "id,amount", "--limit", "2", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "id,amount" and len(out.splitlines()) == 3
    code, out, err = run("findings", "--columns", "id,nope")
    assert code == 2 and "nope" in err and "tracking_number" in err
    code, out, err = run("claims", "list", "--sort", "size")
    assert code == 2 and "amount" in err


def test_table_cells_are_for_people() -> None:
    from recoup.tables import cell

    assert cell("amount", "1234567.50") == "1,234,567.50"
    assert cell("filed_at", "2026-11-16T12:00:07.123456+00:00") == "2026-11-16 12:00"
    assert cell("deadline", "2026-11-16") == "2026-11-16"
    assert cell("claimable", True) == "yes" and cell("reason", "two\nlines") == "two lines"


def _commands(group: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subs = getattr(group, "commands", None)
    if not subs:
        return [path]
    out = [path]
    for name, cmd in sorted(subs.items()):
        out += _commands(cmd, (*path, name))
    return out


def test_help_shows_what_a_person_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command's help: choices as [a|b], values as a word in capitals, flags as flags; never typer's
    `<bool>`, `<str>`, `<list[Path]>`."""
    import re

    from typer.main import get_command

    monkeypatch.setenv("COLUMNS", "200")
    paths = _commands(get_command(app))
    assert len(paths) > 30
    for path in paths:
        code, out, err = run(*path, "--help")
        assert code == 0, (path, err)
        assert not re.search(r"<(bool|str|int|float|Path|PosixPath|list\[|date)", out), (path, out)
    helps = {" ".join(p): run(*p, "--help")[1] for p in (("findings",), ("claims", "list"), ("ingest", "scans"),
                                                          ("audit",), ("report", "monthly"), ("backtest",))}
    f = helps["findings"]
    assert "[table|csv|json]" in f and "KIND" in f and "late_delivery" in f and "CARRIER" in f and "dpd_uk" in f
    assert re.search(r"--claimable\s+--not-claimable\s+Only claimable", f)      # a flag takes no value
    assert "STATUS" in helps["claims list"] and "needs_attention" in helps["claims list"]
    assert "Usage: recoup ingest scans [OPTIONS] FILE..." in helps["ingest scans"]
    assert "[auto|canonical|easypost|fedex|ups]" in helps["ingest scans"]
    assert re.search(r"--full\s+Re-judge", helps["audit"]) and "DAY" in helps["audit"]
    assert "YYYY-MM" in helps["report monthly"] and "xlsx,html,csv" in helps["report monthly"]
    assert "--from" in helps["backtest"] and "DAY" in helps["backtest"]


@pytest.mark.parametrize("args", [["findings"], ["claims", "list"]])
def test_limit_reads_a_page_not_the_table(audited: dict[str, str], args: list[str]) -> None:
    """`--limit N` (with or without a --sort on a column SQL can order) asks the database for N rows, and
    gives what sorting every row in Python gives; the footer still counts every matching row."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    every = json.loads(run(*args, "--format", "json")[1])
    seen: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", spy)
    try:
        for sort in (None, "amount", "-amount", "deadline", "-carrier", "kind"):
            seen.clear()
            extra = ["--sort", sort] if sort else []
            code, out, err = run(*args, *extra, "--limit", "5", "--format", "json")
            assert code == 0, err
            listing = [s for s in seen if "ORDER BY" in s and "sqlite_master" not in s and "count(" not in s.lower()]
            assert listing and all("LIMIT" in s for s in listing), (sort, listing)
            col = (sort or "id").lstrip("-")
            present = [r for r in every if r[col] is not None]
            key = (lambda r, c=col: Decimal(r[c])) if col == "amount" else (lambda r, c=col: r[c])
            want = sorted(present, key=key, reverse=bool(sort and sort.startswith("-")))
            want += [r for r in every if r[col] is None]
            assert json.loads(out) == want[:5], sort
        code, out, _ = run(*args, "--limit", "2")
        assert f"2 row(s) of {len(every)} (--limit)" in out
    finally:
        event.remove(Engine, "before_cursor_execute", spy)
