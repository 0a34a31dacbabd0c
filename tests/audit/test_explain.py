"""`recoup explain TRACKING`: what recoup knows about one parcel and why each finding kind was or was
not made, through the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recoup.audit.service import audit
from recoup.cli import app
from recoup.clock import SYSTEM, replay_clock
from recoup.ingest.service import ingest_files
from recoup.store.db import init_db, make_engine


@pytest.fixture
def store(kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A SQLite store with the kit's records loaded, audited as of 20 Oct 2026; the CLI pointed at it."""
    url = f"sqlite:///{tmp_path / 'explain.db'}"
    monkeypatch.setenv("RECOUP_DATABASE_URL", url)
    monkeypatch.setenv("RECOUP_CONTRACTS", str(kit.contracts_dir))
    monkeypatch.delenv("RECOUP_CONFIG", raising=False)

    def load(as_of: str = "2026-10-20") -> None:
        eng = make_engine(url)
        init_db(eng)
        files = kit.write_csvs(tmp_path / "data")
        for kind in ("shipments", "scans", "invoices"):
            if files[kind]:
                ingest_files(eng, kind, files[kind], clock=SYSTEM, contracts=kit.contract_set())
        audit(eng, kit.contract_set(), dt.date.fromisoformat(as_of), clock=replay_clock(dt.date.fromisoformat(as_of)))
        eng.dispose()

    return load


def explain(*args: str) -> Any:
    res = CliRunner().invoke(app, ["explain", *args])
    return res


def verdicts(out: str) -> dict[str, tuple[str, str]]:
    data = json.loads(out)
    return {v["kind"]: (v["made"], v["why"]) for v in data["verdicts"]}


def test_late_delivery_excluded_by_an_exception(kit: Any, store: Any) -> None:
    kit.contract()
    kit.ship("T1")
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up")
    kit.scan("T1", "2026-10-06T08:00:00-04:00", "exception", "weather")
    kit.scan("T1", "2026-10-06T12:00:00-04:00", "delivered")
    kit.line("T1", "I1", "2026-10-10", "transportation", "25.00", billed_weight="5", zone="4")
    store()
    res = explain("T1", "--as-of", "2026-10-20", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["carrier"] == "ups" and data["manifest"]["service"] == "NDA"
    assert data["contract"]["service"]["commit_time"] == "10:30"
    assert [e["at"] for e in data["events"]] == ["2026-10-05T17:00-04:00", "2026-10-06T08:00-04:00",
                                                 "2026-10-06T12:00-04:00"]
    v = verdicts(res.output)
    assert v["late_delivery"][0] == "yes"
    assert "not claimable" in v["late_delivery"][1] and "weather" in v["late_delivery"][1]
    assert v["lost"] == ("no", "no: delivered on 2026-10-06T12:00-04:00")
    assert v["void_label"] == ("no", "no: it has carrier scans")
    assert v["rate_overcharge"][0] == "no" and "25.00" in v["rate_overcharge"][1]
    assert v["residential_surcharge"] == ("no", "no: no residential charge billed")
    assert [f["kind"] for f in data["findings"]] == ["late_delivery"]
    assert data["findings"][0]["history"][0]["change"] == "opened"
    assert data["claims"] == []          # not claimable: no claim


def test_not_guaranteed_and_a_lost_parcel_found_later(kit: Any, store: Any) -> None:
    kit.contract()
    kit.ship("G1", service="GND")
    kit.scan("G1", "2026-10-05T17:00:00-04:00", "picked_up")
    store("2026-10-20")
    v = verdicts(explain("G1", "--as-of", "2026-10-20", "--format", "json").output)
    assert v["late_delivery"] == ("not judged", "not judged: service GND is not guaranteed")
    assert v["lost"][0] == "yes"
    kit.scan("G1", "2026-10-19T10:00:00-04:00", "delivered")
    store("2026-10-20")
    res = explain("G1", "--as-of", "2026-10-20", "--format", "json")
    data = json.loads(res.output)
    assert verdicts(res.output)["lost"] == ("no", "no: delivered on 2026-10-19T10:00-04:00")
    lost = next(f for f in data["findings"] if f["kind"] == "lost")
    assert lost["status"] == "withdrawn"
    assert [h["change"] for h in lost["history"]] == ["opened", "withdrawn"]
    claim = next(c for c in data["claims"] if c["id"] == lost["claim_id"])
    assert claim["status"] == "cancelled"
    assert [e["to"] for e in claim["events"]] == ["ready", "cancelled"]


def test_in_transit_says_when_it_turns_lost(kit: Any, store: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND")
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up")
    store("2026-10-08")
    v = verdicts(explain("T1", "--as-of", "2026-10-08", "--format", "json").output)
    assert v["lost"] == ("no", "no: last event on 2026-10-05; lost after 10 days without news, from 2026-10-15")


def test_billing_suppressed_by_a_claimable_loss(kit: Any, store: Any) -> None:
    kit.contract()
    kit.ship("T1", dest_residential=False)
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up")
    kit.line("T1", "I1", "2026-10-10", "residential", "5.00")
    kit.line("T1", "I1", "2026-10-10", "residential", "5.00")
    store()
    res = explain("T1", "--as-of", "2026-10-20", "--format", "json")
    v = verdicts(res.output)
    assert v["lost"][0] == "yes" and v["duplicate_charge"][0] == "yes"
    assert v["residential_surcharge"][0] == "no"
    assert "not reported: refunded by the claimable lost" in v["residential_surcharge"][1]
    lines = json.loads(res.output)["invoice_lines"]
    assert lines[1]["audit"].startswith("duplicate_charge: yes")


def test_parcel_not_in_a_manifest(kit: Any, store: Any) -> None:
    kit.contract()
    kit.ship("M1")
    kit.line("X9", "I1", "2026-10-10", "transportation", "25.00")
    store()
    res = explain("X9", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["manifest"] is None
    assert all(v["made"] == "not judged" and "unknown_shipment" in v["why"] for v in data["verdicts"])
    assert data["invoice_lines"][0]["amount"] == "25.00"


def test_unknown_and_ambiguous_tracking_numbers(kit: Any, store: Any) -> None:
    kit.contract()
    kit.contract(name="fedex", carrier="fedex")
    kit.ship("T1")
    kit.ship("T1", carrier="fedex")
    store()
    res = explain("NOPE")
    assert res.exit_code == 1 and "no parcel with tracking number NOPE" in res.output
    res = explain("T1")
    assert res.exit_code == 1 and "--carrier" in res.output and "fedex, ups" in res.output
    res = explain("T1", "--carrier", "usps")
    assert res.exit_code == 1 and "known for: fedex, ups" in res.output
    res = explain("T1", "--carrier", "fedex", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.output)["carrier"] == "fedex"
    assert "Traceback" not in res.output


def test_table_format(kit: Any, store: Any) -> None:
    kit.contract()
    kit.ship("T1")
    kit.delivered("T1", "2026-10-06T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "fuel", "9.00")
    store()
    res = explain("T1", "--as-of", "2026-10-20")
    assert res.exit_code == 0, res.output
    for part in ("manifest", "service terms", "claim rules", "events (local time)", "invoice lines",
                 "audit as of 2026-10-20", "stored findings", "late_delivery", "fuel_surcharge"):
        assert part in res.output
    assert explain("T1", "--format", "csv").exit_code != 0


def test_new_kinds_show_their_verdicts(kit: Any, store: Any) -> None:
    kit.contract()
    kit.ship("T1", service="GND", ship_date="2026-10-07")
    kit.delivered("T1", "2026-10-09T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-14", "saturday", "16.00")
    store()
    res = explain("T1", "--as-of", "2026-10-20", "--format", "json")
    v = verdicts(res.output)
    assert v["saturday_delivery"][0] == "yes" and "delivered on Friday 2026-10-09" in v["saturday_delivery"][1]
    assert v["additional_handling"] == ("no", "no: no line this rule judges")
    lines = json.loads(res.output)["invoice_lines"]
    assert "saturday_delivery: yes: delivered on Friday" in lines[0]["audit"]
