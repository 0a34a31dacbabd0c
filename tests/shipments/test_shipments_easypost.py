"""EasyPost tracker reader: real samples, the small-formats acceptance JSONL, dedupe, refusals."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import pandas as pd
import pytest

from recoup.errors import FileRefused
from recoup.ingest.base import SCAN_COLUMNS
from recoup.shipments import easypost

from ..conftest import SAMPLES, SHARED

JSONL = SHARED / "acceptance/small-formats/scans/easypost-events.jsonl"
CANONICAL = SHARED / "acceptance/small/scans.csv"
FORMATS_CSV = SHARED / "acceptance/small-formats/scans.csv"


def cassette_body(name: str) -> bytes:
    return json.dumps(json.loads((SAMPLES / "easypost" / name).read_text())["response"]["body"]).encode()


def tracker(details: list[dict], *, code: str = "1Z999", carrier: str = "UPS", **extra: object) -> dict:
    return {"object": "Tracker", "tracking_code": code, "carrier": carrier, "tracking_details": details, **extra}


def detail(status: str, when: str = "2026-10-01T12:00:00Z", status_detail: str | None = None, **extra: object) -> dict:
    return {"object": "TrackingDetail", "status": status, "status_detail": status_detail, "datetime": when,
            "message": "m", "carrier_code": "XX", "tracking_location": {"city": "X", "zip": "1", "country": "US"},
            **extra}


def parse(*docs: dict) -> easypost.ReadResult:
    return easypost.parse("\n".join(json.dumps(d) for d in docs).encode())


# -- real samples ---------------------------------------------------------------------------


def test_tracker_cassettes_give_their_events():
    for name in ("test_tracker_create__1.json", "test_tracker_retrieve__2.json"):
        result = easypost.parse(cassette_body(name))
        frame = result.frame
        assert list(frame.columns) == SCAN_COLUMNS
        assert result.read == 2
        assert not result.errors
        assert not result.unknown_codes
        assert frame["tracking_number"].tolist() == ["EZ1000000001", "EZ1000000001"]
        assert frame["carrier"].tolist() == ["usps", "usps"]
        assert frame["status"].tolist() == ["label_created", "label_created"]
        assert frame["occurred_at"].tolist() == [pd.Timestamp("2025-02-06T19:48:26Z"),
                                                 pd.Timestamp("2025-02-07T08:25:26Z")]
        assert frame["utc_offset_min"].isna().all()
        assert frame["local_time"].isna().all()
        assert frame.loc[1, "city"] == "HOUSTON"
        assert frame.loc[1, "postal"] == "77063"
        assert frame.loc[0, "carrier_status_code"] is None   # "" is no value


def test_webhook_event_sample():
    result = easypost.read(SAMPLES / "easypost/webhook_event_tracker_updated.json")
    frame = result.frame
    assert len(frame) == 7
    assert result.read == 7
    assert set(frame["carrier"]) == {"fedex"}
    assert set(frame["tracking_number"]) == {"1"}
    assert frame["status"].tolist() == ["label_created"] + ["in_transit"] * 6
    assert frame["carrier_status_code"].tolist() == ["OC", "PU", "AR", "DP", "IT", "IT", "AR"]
    assert str(frame["occurred_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["line"].tolist() == [1] * 7
    assert "promised" not in result.extra   # guaranteed_delivery_date is null


def test_event_list_without_trackers_is_refused():
    with pytest.raises(FileRefused, match="no EasyPost Tracker"):
        easypost.parse(cassette_body("test_event_all__1.json"))


# -- acceptance: the JSONL equals the dpd_uk/royal_mail rows of small/scans.csv it covers ------


def _key(tracking: str, carrier: str, instant: pd.Timestamp, status: str, reason: str | None, code: str | None):
    return (tracking, carrier, instant, status, reason or "", code or "")


def test_acceptance_jsonl_matches_canonical_rows():
    result = easypost.read(JSONL)
    assert not result.errors
    assert not result.unknown_codes
    got = {_key(r.tracking_number, r.carrier, r.occurred_at, r.status, r.exception_reason, r.carrier_status_code)
           for r in result.frame.itertuples()}
    assert len(got) == len(result.frame)   # no duplicates left
    covered = set(result.frame["tracking_number"])
    expected, uncovered = set(), []
    with CANONICAL.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["carrier"] not in ("dpd_uk", "royal_mail"):
                continue
            instant = pd.Timestamp(datetime.fromisoformat(row["occurred_at"])).tz_convert("UTC")
            key = _key(row["tracking_number"], row["carrier"], instant, row["status"],
                       row["exception_reason"], row["carrier_status_code"])
            if row["tracking_number"] in covered:
                expected.add(key)
            else:
                uncovered.append(row)
    assert got == expected
    assert len(got) == 823
    # the rows EasyPost has no equivalent for are the ones small-formats/scans.csv keeps
    with FORMATS_CSV.open(newline="") as f:
        kept = {(r["tracking_number"], r["occurred_at"]) for r in csv.DictReader(f)}
    assert uncovered
    assert all((r["tracking_number"], r["occurred_at"]) in kept for r in uncovered)


def test_acceptance_statuses_and_reasons():
    frame = easypost.read(JSONL).frame
    by_code = frame.groupby("carrier_status_code")["status"].agg(set).to_dict()
    assert by_code["PU"] == {"picked_up"}            # in_transit + received_at_origin_facility
    assert by_code["DM"] == {"damaged"}
    assert by_code["LS"] == {"lost"}
    reasons = frame.dropna(subset=["exception_reason"]).groupby("carrier_status_code")["exception_reason"].agg(set)
    assert reasons.to_dict() == {"DM": {"damage"}, "LS": {"carrier"}, "NA": {"customer"}, "WX": {"weather"}}


def test_repeated_histories_are_idempotent(tmp_path):
    data = JSONL.read_bytes()
    once = easypost.parse(data).frame
    twice = easypost.parse(data + data).frame
    reversed_lines = easypost.parse(b"\n".join(reversed(data.splitlines()))).frame
    cols = ["tracking_number", "carrier", "occurred_at", "status", "exception_reason"]

    def norm(frame: pd.DataFrame) -> list:
        return sorted(map(tuple, frame[cols].astype(str).to_numpy().tolist()))

    assert norm(once) == norm(twice) == norm(reversed_lines)
    assert len(twice) == len(once)


# -- mapping rules --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "status_detail", "expected", "reason"), [
    ("pre_transit", "label_created", "label_created", None),
    ("in_transit", "arrived_at_facility", "in_transit", None),
    ("in_transit", "received_at_origin_facility", "picked_up", None),
    ("out_for_delivery", "out_for_delivery", "out_for_delivery", None),
    ("delivered", "arrived_at_destination", "delivered", None),
    ("available_for_pickup", None, "available_for_pickup", None),
    ("return_to_sender", "return", "returned_to_sender", None),
    ("failure", "delivery_exception", "exception", None),
    ("in_transit", "damaged", "damaged", "damage"),
    ("delivered", "damaged", "damaged", "damage"),
    ("in_transit", "lost", "lost", "carrier"),
    ("in_transit", "weather_delay", "exception", "weather"),
    ("failure", "address_correction", "exception", "address"),
    ("failure", "refused", "exception", "customer"),
    ("delivered", "received_at_origin_facility", "delivered", None),   # refines in_transit only
])
def test_status_then_status_detail(status, status_detail, expected, reason):
    frame = parse(tracker([detail(status, status_detail=status_detail)])).frame
    assert frame["status"].tolist() == [expected]
    assert frame["exception_reason"].tolist() == [reason]


def test_not_scans_are_counted_not_stored():
    result = parse(tracker([detail("unknown", "2026-10-01T01:00:00Z"), detail("cancelled", "2026-10-01T02:00:00Z"),
                            detail("canceled", "2026-10-01T02:30:00Z"), detail("error", "2026-10-01T03:00:00Z"),
                            detail("in_transit", "2026-10-01T04:00:00Z")]))
    assert result.frame["status"].tolist() == ["in_transit"]
    assert result.read == 5
    assert any("4 events are not scans" in n for n in result.notes)
    assert not result.unknown_codes


def test_unknown_codes_are_counted_and_kept_as_scans():
    result = parse(tracker([detail("teleported", status_detail="beamed_up")]))
    assert result.frame["status"].tolist() == ["in_transit"]
    assert result.unknown_codes == {"easypost:teleported": 1, "easypost_detail:beamed_up": 1}


def test_carrier_names_map_to_contract_codes():
    names = {"UPS": "ups", "FedEx": "fedex", "USPS": "usps", "DHLExpress": "dhl_express",
             "RoyalMail": "royal_mail", "DPD UK": "dpd_uk", "DPDUK": "dpd_uk", "Evri": "evri"}
    for name, code in names.items():
        assert parse(tracker([detail("in_transit")], carrier=name)).frame["carrier"].tolist() == [code]


def test_unknown_carrier_is_a_row_error_not_a_guess():
    result = parse(tracker([detail("in_transit")], carrier="PonyExpress"))
    assert result.frame.empty
    assert result.read == 1
    assert result.unknown_codes == {"easypost_carrier:PonyExpress": 1}
    assert result.errors[0].column == "carrier"
    assert "PonyExpress" in result.errors[0].reason


def test_bad_events_are_row_errors_with_record_and_field():
    good = tracker([detail("in_transit")])
    bad = tracker([detail("in_transit", "2026-10-01T05:00:00Z"), detail("delivered", "yesterday"),
                   {"status": "delivered"}], code="BAD1")
    result = parse(good, bad)
    assert len(result.frame) == 2
    assert [(e.line, e.column) for e in result.errors] == [
        (2, "tracking_details[1].datetime"), (2, "tracking_details[2].datetime")]
    assert "yesterday" in result.errors[0].reason
    assert "missing" in result.errors[1].reason


def test_datetime_with_offset_is_converted_to_utc():
    frame = parse(tracker([detail("in_transit", "2026-10-01T08:00:00-04:00")])).frame
    assert frame["occurred_at"].tolist() == [pd.Timestamp("2026-10-01T12:00:00Z")]
    assert frame["utc_offset_min"].isna().all()


def test_guaranteed_delivery_date_is_promised():
    result = parse(tracker([detail("in_transit")], carrier_detail={"guaranteed_delivery_date": "2026-10-03T23:59:00Z"}))
    promised = result.extra["promised"]
    assert promised[["tracking_number", "carrier"]].to_numpy().tolist() == [["1Z999", "ups"]]
    assert promised["promised_delivery"].tolist() == [pd.Timestamp("2026-10-03T23:59:00Z")]
    assert str(promised["promised_delivery"].dtype) == "datetime64[ns, UTC]"


def test_array_object_and_list_response_shapes():
    t = tracker([detail("in_transit")])
    event = {"object": "Event", "description": "tracker.updated", "result": t}
    batch = {"object": "Event", "description": "batch.updated", "result": {"object": "Batch"}}
    assert len(easypost.parse(json.dumps(t).encode()).frame) == 1
    result = easypost.parse(json.dumps([event, batch]).encode())
    assert len(result.frame) == 1
    assert any("event batch.updated" in n for n in result.notes)
    assert len(easypost.parse(json.dumps({"trackers": [t], "has_more": False}).encode()).frame) == 1


# -- refusals and sniff ---------------------------------------------------------------------


@pytest.mark.parametrize(("data", "match"), [
    (b"", "empty file"),
    (b"  \n\n", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"\xff\xfe{\x00", "binary"),
    (b"\xc3\x28{}", "not UTF-8"),
    (b"tracking_number,carrier,occurred_at,status\n1Z,ups,2026-10-01T00:00:00Z,delivered\n", "not JSON"),
    (b'{"object": "Tracker", "tracking_code": "1Z", "tracking_details": [{"status": "deliv', "not valid JSON"),
    (b'{"a": 1}', "no EasyPost Tracker"),
    (b"[1, 2, 3]", "no EasyPost Tracker"),
])
def test_bad_files_are_refused_with_a_reason(data, match):
    with pytest.raises(FileRefused, match=match):
        easypost.parse(data)


def test_truncated_json_lines_keep_the_good_records_and_report_the_cut_one(tmp_path):
    # issue 15 item 10: one damaged record is that record's error, the complete ones load
    data = JSONL.read_bytes()
    path = tmp_path / "cut.jsonl"
    cut = data[: len(data) // 2]
    path.write_bytes(cut)
    result = easypost.read(path)
    last_line = cut.count(b"\n") + 1
    assert [(e.line, "not valid JSON" in e.reason) for e in result.errors] == [(last_line, True)]
    assert len(result.frame) > 0


def test_a_file_of_nothing_but_damaged_json_lines_is_refused(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"object": "Event", broken\n{"also": broken\n')
    with pytest.raises(FileRefused, match="no record of the file could be read"):
        easypost.read(path)


def test_other_formats_are_refused():
    with pytest.raises(FileRefused, match="no EasyPost Tracker"):
        easypost.read(SAMPLES / "tracking/fedex_track_v1_response_776094337676.json")
    with pytest.raises(FileRefused, match="cannot be read"):
        easypost.read(SAMPLES / "no-such-file.json")


def test_sniff():
    assert easypost.sniff((SAMPLES / "easypost/webhook_event_tracker_updated.json").read_bytes())
    assert easypost.sniff(JSONL.read_bytes()[:65536])
    assert easypost.sniff(b"\xef\xbb\xbf" + cassette_body("test_tracker_create__1.json"))
    assert not easypost.sniff((SAMPLES / "tracking/fedex_track_v1_response_776094337676.json").read_bytes())
    assert not easypost.sniff((SAMPLES / "tracking/ups_track_v1_response_openapi_example.json").read_bytes())
    assert not easypost.sniff(CANONICAL.read_bytes()[:65536])
    assert not easypost.sniff(b"")
    assert not easypost.sniff(b"\x00\x01\x02")
