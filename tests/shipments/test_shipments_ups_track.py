"""UPS Track API reader: the OpenAPI sample, activity types, local times, exception reasons."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recoup.errors import FileRefused
from recoup.ingest.base import SCAN_COLUMNS
from recoup.shipments import ups_track

from ..conftest import SAMPLES

SAMPLE = SAMPLES / "tracking/ups_track_v1_response_openapi_example.json"


def activity(kind: str, *, code: str = "", status_code: str = "", description: str = "",
             date: str | None = "20261001", time: str | None = "143000") -> dict:
    act: dict = {"status": {"type": kind, "code": code, "statusCode": status_code, "description": description},
                 "location": {"address": {"city": "Louisville", "postalCode": "40213", "countryCode": "US"}}}
    if date is not None:
        act["date"] = date
    if time is not None:
        act["time"] = time
    return act


def response(*activities: dict, number: str = "1Z999AA10123456784") -> bytes:
    doc = {"trackResponse": {"shipment": [{"inquiryNumber": number, "package": [
        {"trackingNumber": number, "activity": list(activities)}]}]}}
    return json.dumps(doc).encode()


def test_openapi_sample():
    result = ups_track.read(SAMPLE)
    frame = result.frame
    assert list(frame.columns) == SCAN_COLUMNS
    assert result.read == 1
    row = frame.iloc[0]
    # the package's trackingNumber is the placeholder "string": the inquiry number is used, with a note
    assert row["tracking_number"] == "1Z023E2X0214323462"
    assert any("'string' is not a tracking number" in n for n in result.notes)
    assert row["carrier"] == "ups"
    assert row["status"] == "exception"
    # no gmt* fields in UPS's example: the local time is placed in the scan's zone (Wayne, NJ)
    assert row["occurred_at"] == pd.Timestamp("2021-02-10T12:13:56Z")
    assert row["utc_offset_min"] == -300
    assert pd.isna(row["local_time"])
    assert (row["city"], row["postal"], row["country"]) == ("Wayne", "07470", "US")
    assert row["carrier_status_code"] == "SR"
    # SR is in no UPS exception table: counted, reason from UPS's text ("customs agency")
    assert result.unknown_codes == {"ups_exception:SR": 1}
    assert row["exception_reason"] == "customs"
    assert str(frame["local_time"].dtype) == "datetime64[ns]"
    assert str(frame["occurred_at"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize(("act", "status", "reason"), [
    (activity("D", code="FS", description="DELIVERED"), "delivered", None),
    (activity("I", code="AR", status_code="005", description="Arrived at Facility"), "in_transit", None),
    (activity("I", code="OT", status_code="021", description="Out For Delivery Today"), "out_for_delivery", None),
    (activity("I", code="OF", description="Out For Delivery Today"), "out_for_delivery", None),
    (activity("I", code="PU", status_code="038", description="Pickup Scan"), "picked_up", None),
    (activity("M", code="MP", status_code="003", description="Shipper created a label"), "label_created", None),
    (activity("MV", code="VP", description="Voided"), "label_created", None),
    (activity("X", code="48", description="The receiver was not available"), "exception", "customer"),
    (activity("X", code="2A", description="Recent weather"), "exception", "weather"),
    (activity("X", code="AL", description="postal code incorrect"), "exception", "address"),
    (activity("X", code="45", description="damaged in transit"), "exception", "damage"),
    (activity("X", code="D1", description="misrouted"), "exception", "carrier"),
    (activity("X", code="B4", description="pending release"), "exception", "customs"),
    (activity("X", code="2", description="Your delivery will be rescheduled."), "exception", None),
    (activity("X", code="CR", description="Delay - Local Weather"), "exception", "weather"),   # Delivery Codes
    (activity("X", code="01", description="missed"), "exception", "carrier"),   # leading zero ignored
])
def test_activity_mapping(act, status, reason):
    result = ups_track.parse(response(act))
    assert result.frame["status"].tolist() == [status]
    assert result.frame["exception_reason"].tolist() == [reason]
    assert not result.unknown_codes


def test_not_scans_and_unknown_codes():
    result = ups_track.parse(response(
        activity("NA", time="100000"), activity("U", code="UT", time="110000"),
        activity("Q", time="120000"), activity("I", status_code="999", time="130000"),
        activity("X", code="#Z", description="Something odd", time="140000"),
    ))
    assert result.frame["status"].tolist() == ["in_transit", "in_transit", "exception"]
    assert result.unknown_codes == {"ups_type:Q": 1, "ups_status:999": 1, "ups_exception:#Z": 1}
    assert result.read == 5
    assert any("2 events are not scans" in n for n in result.notes)


@pytest.mark.parametrize(("date", "time", "column", "reason"), [
    ("2026-10-01", "143000", "date", "not YYYYMMDD"),
    ("20261301", "143000", "date", "not a valid date"),
    ("20261001", "1430", "time", "not HHMMSS"),
    (None, "143000", "date", "date missing"),
    ("20261001", None, "time", "time missing"),
])
def test_bad_dates_are_row_errors(date, time, column, reason):
    result = ups_track.parse(response(activity("I", date=date, time=time), activity("D", time="150000")))
    assert result.frame["status"].tolist() == ["delivered"]
    [error] = result.errors
    assert error.line == 1
    assert error.column == f"activity[0].{column}"
    assert reason in error.reason


def test_repeats_are_stored_once():
    act = activity("I", code="AR")
    result = ups_track.parse(response(act, act) + b"\n" + response(act))
    assert len(result.frame) == 1
    assert result.read == 3


def test_error_response_file_is_refused_with_ups_code_and_message():
    # issue 11: a UPS error body saved as a file is refused with UPS's code and message
    body = {"response": {"errors": [{"code": "151044", "message": "No tracking information available"}]}}
    with pytest.raises(FileRefused, match=r"^UPS error 151044: No tracking information available"):
        ups_track.parse(json.dumps(body).encode())


def test_error_response_in_a_pull_is_a_row_error():
    body = {"response": {"errors": [{"code": "151044", "message": "No tracking information available"}]}}
    result = ups_track.parse_documents([(1, body)], require_results=False)
    assert result.frame.empty
    assert "151044" in result.errors[0].reason


@pytest.mark.parametrize(("data", "match"), [
    (b"", "empty file"),
    (b"PK\x03\x04\x00\x00", "binary"),
    (b"date,time,type\n20261001,143000,D\n", "not JSON"),
    (SAMPLE.read_bytes()[:-40], "not valid JSON"),
    (b'{"output": {"completeTrackResults": []}}', "no UPS Track API response"),
])
def test_bad_files_are_refused(data, match):
    with pytest.raises(FileRefused, match=match):
        ups_track.parse(data)


def test_sniff():
    assert ups_track.sniff(SAMPLE.read_bytes())
    assert ups_track.sniff(b"\xef\xbb\xbf  " + SAMPLE.read_bytes()[:200])
    assert not ups_track.sniff((SAMPLES / "tracking/fedex_track_v1_response_776094337676.json").read_bytes())
    assert not ups_track.sniff((SAMPLES / "easypost/webhook_event_tracker_updated.json").read_bytes())
    assert not ups_track.sniff(b"trackResponse")
