"""The rule registry: every kind has a module, a page, sources, a test; `recoup rules` lists them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from recoup.audit.rules import BILLING_KINDS, RULES, SERVICE_KINDS, all_rules
from recoup.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_has_its_module_page_sources_and_test() -> None:
    for mod in RULES:
        info = mod.INFO
        assert mod.__name__.rsplit(".", 1)[1] == info.kind
        assert info.sources and info.contract_keys and info.description
        assert info.doc == f"docs/rules/{info.kind}.md" and (ROOT / info.doc).is_file(), info.doc
        assert (ROOT / "tests" / "audit" / f"test_rule_{info.kind}.py").is_file(), info.kind


def test_every_kind_once_the_kinds_per_parcel_first() -> None:
    kinds = [r.kind for r in all_rules()]
    assert len(kinds) == len(set(kinds)) == len(RULES) == 26
    assert kinds[:4] == list(SERVICE_KINDS)           # the runner suppresses refunded lines after them
    assert set(BILLING_KINDS) <= set(kinds[4:11])


def test_every_rule_module_is_in_rules() -> None:
    folder = ROOT / "src" / "recoup" / "audit" / "rules"
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    helpers = {"base", "facts", "frames", "runner"}
    assert modules - helpers == {m.INFO.kind for m in RULES}


def test_rules_command_json_csv_table() -> None:
    r = CliRunner().invoke(app, ["rules", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["kind"] for x in rows] == [x.kind for x in all_rules()]
    assert all(x["sources"] for x in rows)
    r = CliRunner().invoke(app, ["rules", "--format", "csv"])
    got = list(csv.DictReader(io.StringIO(r.output)))
    assert got[-1]["kind"] == RULES[-1].INFO.kind and got[0]["contract_keys"]
    r = CliRunner().invoke(app, ["rules"])
    assert r.exit_code == 0 and "unmanifested_charge" in r.output
