"""`recoup ingest scans` on tracking as carriers send it (issue 11): error bodies refused with the
carrier's words, UPS times stored at the right instant with their offset, USPS Tracking 3.0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from recoup.cli import app
from recoup.store.db import make_engine

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tracking"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def initdb(cli_env: dict[str, str]) -> str:
    assert run("init")[0] == 0
    return cli_env["RECOUP_DATABASE_URL"]


def scans(url: str) -> list[tuple]:
    eng = make_engine(url)
    with eng.connect() as c:
        rows = [tuple(r) for r in c.execute(text(
            "select tracking_number, occurred_at, utc_offset_min, status from scan_event order by occurred_at"))]
    eng.dispose()
    return rows


def test_error_bodies_are_refused_with_the_carriers_code_and_message(initdb: str) -> None:
    files = [str(FIXTURES / n) for n in ("ups_error_151044.json", "fedex_error_notfound.json",
                                         "easypost_error_not_found.json", "usps_error_400.json")]
    code, out, err = run("ingest", "scans", *files, "--format", "json")
    assert code == 1
    refused = [f["refused"] for f in json.loads(out)["files"]]
    assert refused[0].startswith("UPS error 151044: No tracking information available")
    assert refused[1].startswith("FedEx error TRACKING.TRACKINGNUMBER.NOTFOUND")
    assert refused[2].startswith("EasyPost error TRACKER.NOT_FOUND")
    assert refused[3].startswith("USPS error 400")
    assert not any("not recognised" in r for r in refused)
    assert "Traceback" not in err


def test_ups_times_are_stored_at_their_gmt_instant(initdb: str, tmp_path: Path) -> None:
    body = {"trackResponse": {"shipment": [{"inquiryNumber": "1Z01747D0346891369", "package": [{
        "trackingNumber": "1Z01747D0346891369", "activity": [
            {"location": {"address": {"stateProvince": "TX", "postalCode": "75241", "countryCode": "US"}},
             "status": {"type": "D", "description": "DELIVERED ", "code": "FS", "statusCode": "011"},
             "date": "20261105", "time": "142800", "gmtDate": "20261105", "gmtOffset": "-06:00",
             "gmtTime": "20:28:00"},
            {"location": {"address": {"countryCode": "US"}},          # no gmt*, no zone from the place
             "status": {"type": "P", "description": "Pickup Scan ", "code": "PU", "statusCode": "038"},
             "date": "20261102", "time": "173700"}]}]}]}}
    manifest = tmp_path / "shipments.csv"
    manifest.write_text("tracking_number,carrier,service,ship_date,dest_postal,dest_country,dest_timezone\n"
                        "1Z01747D0346891369,ups,GND,2026-11-02,75241,US,America/Chicago\n")
    assert run("ingest", "shipments", str(manifest))[0] == 0
    f = tmp_path / "ups-track.json"
    f.write_text(json.dumps(body))
    code, out, _ = run("ingest", "scans", str(f), "--format", "json")
    assert code == 0, out
    rows = scans(initdb)
    stamps = [(str(r[1])[:19], r[2], r[3]) for r in rows]
    # the pickup is resolved in the manifest's zone (CST in November) and its offset is stored
    assert stamps == [("2026-11-02 23:37:00", -360, "picked_up"), ("2026-11-05 20:28:00", -360, "delivered")]


def test_usps_tracking_v3_is_auto_detected_and_stored(initdb: str) -> None:
    code, out, _ = run("ingest", "scans", str(FIXTURES / "usps_v3_tracking_response.json"), "--format", "json")
    summary = json.loads(out)["files"][0]
    assert code == 0 and summary["format"] == "usps" and summary["stored"] == 6
    assert summary["unknown_codes"] == {"usps_event:U1": 1}
