"""The CLI answers at once (issue 14): importing it, or asking it for help, does not load the stack
(pandas, numpy, SQLAlchemy, pydantic); each command imports what it needs when it runs. Timings are in
bench/bench_cli.py, not here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "sqlalchemy", "sqlmodel", "pydantic", "openpyxl", "httpx")


def _loaded(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    probe = code + f"\nimport json, sys\nprint(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_import_cli_does_not_import_the_stack() -> None:
    assert _loaded("import recoup.cli") == []


@pytest.mark.parametrize("args", [["--help"], ["claims", "--help"], ["findings", "--help"], ["report", "--help"],
                                  ["worker", "--help"], ["--version"]])
def test_help_does_not_import_the_stack(args: list[str]) -> None:
    code = ("import sys\nfrom recoup.cli import app\n"
            f"sys.argv = ['recoup', *{args!r}]\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n")
    # typer (0.29) coerces the values of options with pydantic once it parses any, as under a sub-command
    heavy = HEAVY if len(args) == 1 else tuple(m for m in HEAVY if m != "pydantic")
    assert _loaded(code, heavy) == []


def test_every_command_is_registered() -> None:
    """Explicit registration: every command module is there (no import silently skipped)."""
    from typer.main import get_command

    from recoup.cli import app

    group = get_command(app)
    names = set(group.commands)  # type: ignore[attr-defined]
    assert {"init", "contracts", "ingest", "audit", "findings", "claims", "recovered", "report", "sla", "worker",
            "explain", "demo", "doctor", "backtest", "rules", "sandbox", "serve"} <= names


def test_schema_check_reads_the_head_without_alembic_and_agrees_with_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from recoup.errors import StoreError
    from recoup.store.db import _alembic_config, check_schema, head_revision, init_db, make_engine

    assert head_revision() == ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
    eng = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    with pytest.raises(StoreError, match="recoup init"):
        check_schema(eng)
    init_db(eng)
    check_schema(eng)
    with eng.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with pytest.raises(StoreError, match="revision 0001"):
        check_schema(eng)
    eng.dispose()


def test_shell_completion_is_typers() -> None:
    """`recoup --show-completion bash` prints the script; `--install-completion` installs it."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}, "SHELL": "/bin/bash"}
    exe = os.path.join(os.path.dirname(sys.executable), "recoup")
    p = subprocess.run([exe, "--show-completion", "bash"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "_recoup_completion" in p.stdout and "complete " in p.stdout
