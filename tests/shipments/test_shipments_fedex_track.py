"""FedEx Track API reader: the recorded sample, duplicate trackResults, codes, refusals."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

from recoup.errors import FileRefused
from recoup.ingest.base import SCAN_COLUMNS
from recoup.shipments import fedex_track

from ..conftest import SAMPLES

SAMPLE = SAMPLES / "tracking/fedex_track_v1_response_776094337676.json"


def sample() -> dict:
    return json.loads(SAMPLE.read_text())


def one_event(**event: object) -> bytes:
    base = {"date": "2026-10-01T09:00:00-05:00", "eventType": "AR", "eventDescription": "Arrived",
            "exceptionCode": "", "exceptionDescription": "", "scanLocation": {"city": "MEMPHIS",
                                                                               "postalCode": "38118",
                                                                               "countryCode": "US"}}
    base.update(event)
    doc = {"output": {"completeTrackResults": [{"trackingNumber": "111", "trackResults": [
        {"trackingNumberInfo": {"trackingNumber": "111"}, "scanEvents": [base]}]}]}}
    return json.dumps(doc).encode()


def test_sample_response():
    result = fedex_track.read(SAMPLE)
    frame = result.frame
    assert list(frame.columns) == SCAN_COLUMNS
    assert result.read == 18
    assert len(frame) == 18
    assert not result.errors
    assert not result.unknown_codes
    assert set(frame["tracking_number"]) == {"776094337676"}
    assert set(frame["carrier"]) == {"fedex"}
    first = frame.iloc[0]
    assert first["occurred_at"] == pd.Timestamp("2024-04-26T14:50:00Z")
    assert first["utc_offset_min"] == -420
    assert first["city"] == "CLOVIS"
    assert first["postal"] == "93612"
    oc = frame[frame["carrier_status_code"] == "OC"].iloc[0]
    assert oc["status"] == "label_created"
    assert oc["utc_offset_min"] == -300
    statuses = dict(zip(frame["carrier_status_code"], frame["status"], strict=False))
    assert statuses["PU"] == "picked_up"
    assert statuses["HP"] == "available_for_pickup"
    assert statuses["OD"] == "out_for_delivery"
    assert statuses["DL"] == "delivered"
    assert statuses["DY"] == "exception"
    assert statuses["AO"] == "in_transit"
    de = frame[frame["carrier_status_code"] == "DE"]
    assert de["exception_reason"].tolist() == [None, "customer"]   # A47 names no cause; 08 does
    assert "Customer not available" in de.iloc[1]["description"]
    assert str(frame["occurred_at"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["utc_offset_min"].dtype) == "Int64"
    assert frame["local_time"].isna().all()
    assert frame["line"].tolist() == [1] * 10 + [2] * 8
    assert any("2 shipments under this number" in n for n in result.notes)


def test_sample_commitments():
    promised = fedex_track.read(SAMPLE).extra["promised"]
    assert promised["promised_delivery"].tolist() == [pd.Timestamp("2024-04-25T17:30:00Z"),
                                                      pd.Timestamp("2024-04-26T06:00:00Z")]
    assert promised["utc_offset_min"].tolist() == [-420, -360]
    assert set(promised["carrier"]) == {"fedex"}


def test_duplicate_track_results_do_not_duplicate_events():
    doc = sample()
    ctr = doc["output"]["completeTrackResults"][0]
    ctr["trackResults"] = ctr["trackResults"] + copy.deepcopy(ctr["trackResults"])
    doubled = fedex_track.parse(json.dumps(doc).encode())
    assert doubled.read == 36
    assert len(doubled.frame) == 18
    assert any("18 repeated events" in n for n in doubled.notes)
    assert len(doubled.extra["promised"]) == 2
    # and the same response twice in one file (JSON Lines)
    twice = fedex_track.parse(SAMPLE.read_bytes().strip() + b"\n" + json.dumps(sample()).encode())
    assert len(twice.frame) == 18


def test_unknown_event_type_is_kept_and_counted():
    result = fedex_track.parse(one_event(eventType="ZQ"))
    assert result.frame["status"].tolist() == ["in_transit"]
    assert result.unknown_codes == {"fedex_event:ZQ": 1}


def test_clearance_delay_is_customs():
    result = fedex_track.parse(one_event(eventType="CD"))
    assert result.frame["exception_reason"].tolist() == ["customs"]


def test_unknown_exception_code_takes_the_reason_from_fedex_text():
    result = fedex_track.parse(one_event(eventType="DE", exceptionCode="99", exceptionDescription="Severe weather"))
    assert result.frame["exception_reason"].tolist() == ["weather"]
    assert result.unknown_codes == {"fedex_exception:99": 1}
    silent = fedex_track.parse(one_event(eventType="DE", exceptionCode="98", exceptionDescription="Try later"))
    assert silent.frame["exception_reason"].tolist() == [None]


@pytest.mark.parametrize(("date", "reason"), [
    ("01/10/2026 09:00", "not an ISO 8601"),
    ("2026-10-01", "without a time"),
    (None, "missing"),
])
def test_bad_dates_are_row_errors(date, reason):
    result = fedex_track.parse(one_event(date=date))
    assert result.frame.empty
    assert result.read == 1
    [error] = result.errors
    assert error.line == 1
    assert error.column == "scanEvents[0].date"
    assert reason in error.reason


def test_not_found_is_a_row_error():
    doc = {"output": {"completeTrackResults": [{"trackingNumber": "123", "trackResults": [
        {"trackingNumberInfo": {"trackingNumber": "123"},
         "error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND", "message": "Tracking number cannot be found."}}]}]}}
    result = fedex_track.parse(json.dumps(doc).encode())
    assert result.frame.empty
    assert "123: TRACKING.TRACKINGNUMBER.NOTFOUND" in result.errors[0].reason


@pytest.mark.parametrize(("data", "match"), [
    (b"", "empty file"),
    (b"\x00\x01binary", "binary"),
    (b"tracking_number,carrier\n1,fedex\n", "not JSON"),
    (SAMPLE.read_bytes()[:5000], "not valid JSON"),
    (b'{"errors": [{"code": "UNAUTHORIZED", "message": "bad token"}]}', "UNAUTHORIZED"),
    (b'{"trackResponse": {}}', "no FedEx Track API response"),
])
def test_bad_files_are_refused(data, match):
    with pytest.raises(FileRefused, match=match):
        fedex_track.parse(data)


def test_sniff():
    assert fedex_track.sniff(SAMPLE.read_bytes())
    assert fedex_track.sniff(SAMPLE.read_bytes()[:700])   # a head cut mid-document
    assert not fedex_track.sniff((SAMPLES / "tracking/ups_track_v1_response_openapi_example.json").read_bytes())
    assert not fedex_track.sniff((SAMPLES / "easypost/webhook_event_tracker_updated.json").read_bytes())
    assert not fedex_track.sniff(b"completeTrackResults,foo\n")
    assert not fedex_track.sniff(b"")
