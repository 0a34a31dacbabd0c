"""Issue 11, item 4-5: tracking as carriers send it (UPS gmt fields, FedEx dates without offset,
EasyPost reasons in the message, USPS Tracking 3.0, placeholder numbers, carrier error bodies)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from recoup.errors import FileRefused
from recoup.ingest.formats import detect
from recoup.shipments import canonical, easypost, fedex_track, ups_track, usps_track
from recoup.shipments.codes import table
from recoup.shipments.codes.zones import zone_for

from ..conftest import SHARED

HERE = Path(__file__).parents[1] / "fixtures" / "tracking"
REAL_UPS = sorted((SHARED / "acceptance/real-formats/scans").glob("ups-track-*.json"))
FEDEX_SAMPLE = SHARED / "samples/tracking/fedex_track_v1_response_776094337676.json"
CODES = SHARED / "samples/tracking_codes"


def ups_activity(**extra: object) -> dict:
    """An activity shaped like the real-formats acceptance set (and UPS's newer responses)."""
    act: dict = {"location": {"address": {"stateProvince": "TX", "postalCode": "75241", "countryCode": "US",
                                          "country": "US"}},
                 "status": {"type": "D", "description": "DELIVERED ", "code": "FS", "statusCode": "011"},
                 "date": "20261105", "time": "142800", "gmtDate": "20261105", "gmtOffset": "-06:00",
                 "gmtTime": "20:28:00"}
    act.update(extra)
    return {k: v for k, v in act.items() if v is not None}


def ups_doc(*activities: dict, number: str = "1Z01747D0346891369", inquiry: str | None = None) -> bytes:
    return json.dumps({"trackResponse": {"shipment": [{"inquiryNumber": inquiry or number, "package": [
        {"trackingNumber": number, "activity": list(activities)}]}]}}).encode()


# ------------------------------------------------------------------ UPS: gmt fields win

def test_ups_gmt_fields_give_the_instant_and_the_offset():
    # before issue 11 the local 14:28 was stored as local time and resolved in the manifest's zone
    [row] = ups_track.parse(ups_doc(ups_activity())).frame.to_dict("records")
    assert row["occurred_at"] == pd.Timestamp("2026-11-05T20:28:00Z")
    assert row["utc_offset_min"] == -360
    assert pd.isna(row["local_time"])


def test_ups_gmt_fields_win_over_the_place_and_cross_midnight():
    act = ups_activity(date="20260923", time="213900", gmtDate="20260924", gmtTime="02:39:00", gmtOffset="-05:00")
    [row] = ups_track.parse(ups_doc(act)).frame.to_dict("records")
    assert row["occurred_at"] == pd.Timestamp("2026-09-24T02:39:00Z")
    assert row["utc_offset_min"] == -300


def test_ups_gmt_without_offset_takes_it_from_the_local_time():
    [row] = ups_track.parse(ups_doc(ups_activity(gmtOffset=None))).frame.to_dict("records")
    assert row["occurred_at"] == pd.Timestamp("2026-11-05T20:28:00Z")
    assert row["utc_offset_min"] == -360


def test_ups_offset_alone_places_the_local_time():
    act = ups_activity(gmtDate=None, gmtTime=None, gmtOffset="-05:00")
    [row] = ups_track.parse(ups_doc(act)).frame.to_dict("records")
    assert row["occurred_at"] == pd.Timestamp("2026-11-05T19:28:00Z")
    assert row["utc_offset_min"] == -300


@pytest.mark.parametrize(("address", "instant", "offset"), [
    ({"stateProvince": "TX", "postalCode": "75241", "countryCode": "US"}, "2026-07-01T19:28:00Z", -300),
    ({"stateProvince": "TX", "postalCode": "79901", "countryCode": "US"}, "2026-07-01T20:28:00Z", -360),
    ({"stateProvince": "NY", "countryCode": "US"}, "2026-07-01T18:28:00Z", -240),
    ({"stateProvince": "CA", "postalCode": "90001", "countryCode": "US"}, "2026-07-01T21:28:00Z", -420),
    ({"stateProvince": "AZ", "countryCode": "US"}, None, None),     # split state: left to the manifest
    ({"countryCode": "US"}, None, None),
    ({"city": "LONDON", "countryCode": "GB"}, "2026-07-01T13:28:00Z", 60),
])
def test_ups_without_gmt_the_scan_place_names_the_zone(address, instant, offset):
    act = ups_activity(date="20260701", gmtDate=None, gmtTime=None, gmtOffset=None, location={"address": address})
    [row] = ups_track.parse(ups_doc(act)).frame.to_dict("records")
    if instant is None:
        assert pd.isna(row["occurred_at"]) and row["local_time"] == pd.Timestamp("2026-07-01T14:28:00")
    else:
        assert row["occurred_at"] == pd.Timestamp(instant)
        assert row["utc_offset_min"] == offset


@pytest.mark.parametrize(("field", "value"), [("gmtTime", "25:99"), ("gmtOffset", "EST"), ("gmtDate", "2026-13")])
def test_ups_malformed_gmt_fields_are_row_errors(field, value):
    result = ups_track.parse(ups_doc(ups_activity(**{field: value})))
    assert result.frame.empty
    [error] = result.errors
    assert error.column == f"activity[0].{field}"


@pytest.mark.skipif(not REAL_UPS, reason="acceptance set not present")
def test_ups_real_formats_instants_equal_their_gmt_fields():
    checked = 0
    for path in REAL_UPS:
        result = ups_track.read(path)
        assert not result.errors and not result.unknown_codes, path
        got = {(r.tracking_number, r.occurred_at): (r.utc_offset_min, r.status) for r in result.frame.itertuples()}
        for shipment in json.loads(path.read_text())["trackResponse"]["shipment"]:
            for package in shipment["package"]:
                for a in package["activity"]:
                    g, t = a["gmtDate"], a["gmtTime"]
                    key = (package["trackingNumber"], pd.Timestamp(f"{g[:4]}-{g[4:6]}-{g[6:]}T{t}Z"))
                    sign = -1 if a["gmtOffset"].startswith("-") else 1
                    hours, minutes = a["gmtOffset"][1:].split(":")
                    offset, status = got[key]
                    assert offset == sign * (int(hours) * 60 + int(minutes))
                    if a["status"]["type"] == "P":
                        assert status == "picked_up"
                    checked += 1
    assert checked > 1000


# ------------------------------------------------------------------ code tables cover the samples

def test_every_fedex_and_ups_code_of_the_sample_tables_is_mapped():
    fedex = table("fedex_event_types.csv")
    possession_only = {"SH", "CU", "BR", "TP"}   # Possession codes: who holds the parcel, not scan events
    lines = (CODES / "fedex_Tracking-Status-Codes.tsv").read_text().splitlines()
    for line in lines[2:]:
        cells = [c.strip() for c in line.split("\t")]
        for i in range(0, len(cells) - 1, 2):
            code = cells[i]
            if code and code not in ("Movement", "Regulatory", "Possession") and code not in possession_only:
                assert fedex.get(code) is not None, code
    assert fedex.get("AE")["status"] == "in_transit"          # arriving early, seen in real responses
    movement = table("ups_movement_codes.csv")
    text = (CODES / "ups_Tracking-package-exceptions.tsv").read_text().splitlines()
    start = text.index("Movement Scans")
    end = text.index("Status/Description Codes")
    for line in text[start:end]:
        code = line.split("\t")[0].strip()
        if line.count("\t") == 1 and "CODE" not in line:
            assert movement.get(code) is not None, code
    ups_types = table("ups_activity_types.csv")
    assert ups_types.get("P")["status"] == "picked_up"


def test_ups_movement_code_refines_in_transit():
    act = ups_activity(gmtDate=None, gmtTime=None, gmtOffset="-05:00",
                       status={"type": "I", "code": "YF", "description": "USPS Out for Delivery"})
    [row] = ups_track.parse(ups_doc(act)).frame.to_dict("records")
    assert row["status"] == "out_for_delivery"
    act["status"] = {"type": "I", "code": "Q9", "description": "Somewhere"}
    result = ups_track.parse(ups_doc(act))
    assert result.unknown_codes == {"ups_movement:Q9": 1}
    assert result.frame["status"].tolist() == ["in_transit"]


# ------------------------------------------------------------------ FedEx: dates without an offset

def fedex_doc_with_naive_pickup() -> bytes:
    doc = json.loads(FEDEX_SAMPLE.read_text())
    result = doc["output"]["completeTrackResults"][0]["trackResults"][0]
    pickup = next(e for e in result["scanEvents"] if e["eventType"] == "PU")
    pickup["date"] = "2024-04-24T16:05:00"          # as seen on real pickup scans
    return json.dumps(doc).encode()


def test_fedex_pickup_without_offset_takes_it_from_the_same_result():
    # before issue 11 this scan was a row error ("no UTC offset")
    result = fedex_track.parse(fedex_doc_with_naive_pickup())
    assert not result.errors
    pu = result.frame[result.frame["carrier_status_code"] == "PU"]
    assert pd.Timestamp("2024-04-24T23:05:00Z") in pu["occurred_at"].tolist()
    assert -420 in pu["utc_offset_min"].tolist()
    assert any("has no UTC offset" in n for n in result.notes)


def naive_event(date: str, location: dict, others: list[dict] | None = None) -> bytes:
    event = {"date": date, "eventType": "PU", "eventDescription": "Picked up", "scanLocation": location}
    return json.dumps({"output": {"completeTrackResults": [{"trackingNumber": "776094337676", "trackResults": [
        {"trackingNumberInfo": {"trackingNumber": "776094337676"},
         "scanEvents": [event, *(others or [])]}]}]}}).encode()


def test_fedex_naive_date_takes_the_location_zone():
    result = fedex_track.parse(naive_event("2024-04-24T16:05:00", {"city": "COSTA MESA", "stateOrProvinceCode": "CA",
                                                                    "postalCode": "92626", "countryCode": "US"}))
    [row] = result.frame.to_dict("records")
    assert row["occurred_at"] == pd.Timestamp("2024-04-24T23:05:00Z") and row["utc_offset_min"] == -420


def test_fedex_naive_date_takes_a_same_day_scan_at_the_same_place():
    place = {"city": "JEFFERSONVILLE", "stateOrProvinceCode": "IN", "postalCode": "47130", "countryCode": "US"}
    other = {"date": "2024-04-24T20:00:00-04:00", "eventType": "DP", "eventDescription": "Departed",
             "scanLocation": place}
    result = fedex_track.parse(naive_event("2024-04-24T16:05:00", place, [other]))
    pu = result.frame[result.frame["status"] == "picked_up"].iloc[0]
    assert pu["occurred_at"] == pd.Timestamp("2024-04-24T20:05:00Z") and pu["utc_offset_min"] == -240


def test_fedex_naive_date_with_nothing_to_go_by_is_kept_for_the_manifest_zone():
    result = fedex_track.parse(naive_event("2024-04-24T16:05:00", {"countryCode": "US"}))
    assert not result.errors
    [row] = result.frame.to_dict("records")
    assert pd.isna(row["occurred_at"]) and row["local_time"] == pd.Timestamp("2024-04-24T16:05:00")


# ------------------------------------------------------------------ EasyPost: reason in the message

def easypost_tracker(message: str, status: str = "in_transit", detail: str = "delivery_exception") -> bytes:
    return json.dumps({"object": "Tracker", "tracking_code": "776094337676", "carrier": "FedEx",
                       "tracking_details": [{"object": "TrackingDetail", "status": status, "status_detail": detail,
                                             "datetime": "2024-04-25T18:26:00Z", "message": message,
                                             "carrier_code": "DE", "tracking_location": {"city": "CLOVIS"}}]}).encode()


@pytest.mark.parametrize(("message", "status", "detail", "reason"), [
    ("Delivery exception (Customer not available or business closed)", "in_transit", "delivery_exception", "customer"),
    ("Delivery exception (Incorrect address)", "failure", "delivery_exception", "address"),
    ("Shipment exception (Severe weather conditions have delayed delivery)", "in_transit", "unknown", "weather"),
    ("Delivery exception", "in_transit", "delivery_exception", None),
    ("Delivered, Left with receptionist at customer's business", "delivered", "arrived_at_destination", None),
])
def test_easypost_reason_from_the_message(message, status, detail, reason):
    # before issue 11 the customer-caused exception had no reason and could be claimed as late
    result = easypost.parse(easypost_tracker(message, status, detail))
    assert result.frame["exception_reason"].tolist() == [reason]


# ------------------------------------------------------------------ USPS Tracking 3.0

def test_usps_v3_response():
    path = HERE / "usps_v3_tracking_response.json"
    assert detect("scans", path).name == "usps"
    result = usps_track.read(path)
    f = result.frame.set_index("carrier_status_code")
    assert set(f["tracking_number"]) == {"9400111899223033005282"} and set(f["carrier"]) == {"usps"}
    assert f.loc["01", "status"] == "delivered"
    assert f.loc["01", "occurred_at"] == pd.Timestamp("2026-03-09T14:41:00Z")
    assert f.loc["01", "utc_offset_min"] == -240
    assert f.loc["OF", "status"] == "out_for_delivery"
    assert (f.loc["02", "status"], f.loc["02", "exception_reason"]) == ("delivery_attempted", "customer")
    # GMTTimestamp without GMTOffset: offset from the local time
    assert (f.loc["03", "status"], f.loc["03", "utc_offset_min"]) == ("picked_up", -360)
    # local time only, in Maryland: the place's zone
    assert f.loc["U1", "occurred_at"] == pd.Timestamp("2026-03-07T03:15:00Z")
    assert f.loc["U1", "status"] == "in_transit"
    assert result.unknown_codes == {"usps_event:U1": 1}
    assert f.loc["GX", "status"] == "label_created"
    assert f.loc["01", "postal"] == "20012" and f.loc["01", "city"] == "WASHINGTON"


def test_usps_unknown_code_takes_the_status_from_the_text():
    doc = json.loads((HERE / "usps_v3_tracking_response.json").read_text())
    doc["trackingEvents"] = [dict(doc["trackingEvents"][0], eventCode="ZZ")]
    result = usps_track.parse(json.dumps(doc).encode())
    assert result.frame["status"].tolist() == ["delivered"]
    assert result.unknown_codes == {"usps_event:ZZ": 1}


# ------------------------------------------------------------------ placeholders, per row, everywhere

@pytest.mark.parametrize("number", ["<Inquiry Number>", "string", "", "{{trackingNumber}}", "XXXXXXXXXXXX"])
def test_placeholder_numbers_are_refused_per_record_in_every_reader(number, tmp_path):
    good = "1Z01747D0346891369"
    ups = ups_track.parse(json.dumps({"trackResponse": {"shipment": [
        {"inquiryNumber": number, "package": [{"trackingNumber": number, "activity": [ups_activity()]}]},
        {"inquiryNumber": good, "package": [{"trackingNumber": good, "activity": [ups_activity()]}]},
    ]}}).encode())
    assert ups.frame["tracking_number"].tolist() == [good]
    [err] = ups.errors
    assert err.line == 1 and "record 1" in err.reason

    sample = json.loads(FEDEX_SAMPLE.read_text())
    bad = copy.deepcopy(sample["output"]["completeTrackResults"][0])
    bad["trackingNumber"] = number
    for r in bad["trackResults"]:
        r["trackingNumberInfo"]["trackingNumber"] = number
    sample["output"]["completeTrackResults"].insert(0, bad)
    fedex = fedex_track.parse(json.dumps(sample).encode())
    assert set(fedex.frame["tracking_number"]) == {"776094337676"}
    assert [e.line for e in fedex.errors] == [1, 2]

    ep = json.loads(easypost_tracker("In transit", "in_transit", "in_transit"))
    ep["tracking_code"] = number
    result = easypost.parse(json.dumps(ep).encode())
    assert result.frame.empty and result.errors[0].column == "tracking_code"

    usps = json.loads((HERE / "usps_v3_tracking_response.json").read_text())
    usps["trackingNumber"] = number
    result = usps_track.parse(json.dumps(usps).encode())
    assert result.frame.empty and result.errors[0].column == "trackingNumber"

    csv = tmp_path / "scans.csv"
    csv.write_text(f"tracking_number,carrier,occurred_at,status\n\"{number}\",ups,2026-10-01T10:00:00-04:00,delivered\n"
                   f"{good},ups,2026-10-01T10:00:00-04:00,delivered\n")
    result = canonical.read_scans(csv)
    assert result.frame["tracking_number"].tolist() == [good]
    assert [e.line for e in result.errors] == [2]


# ------------------------------------------------------------------ carrier error bodies

@pytest.mark.parametrize(("name", "line"), [
    ("ups_error_151044.json", "UPS error 151044: No tracking information available"),
    ("fedex_error_notfound.json", "FedEx error TRACKING.TRACKINGNUMBER.NOTFOUND: Tracking number cannot be found."),
    ("easypost_error_not_found.json", "EasyPost error TRACKER.NOT_FOUND: The requested resource could not be found."),
    ("usps_error_400.json", "USPS error 400: Invalid Request: The tracking number 9400X is not valid."),
])
def test_carrier_error_bodies_are_recognised_and_refused_with_the_carriers_words(name, line):
    path = HERE / name
    fmt = detect("scans", path)          # before issue 11: "format not recognised"
    assert fmt.name == "carrier_error"
    with pytest.raises(FileRefused) as refused:
        fmt.reader()(path)
    assert str(refused.value).startswith(line)


@pytest.mark.parametrize(("reader", "name", "carrier"), [
    (ups_track, "ups_error_151044.json", "UPS"), (fedex_track, "fedex_error_notfound.json", "FedEx"),
    (easypost, "easypost_error_not_found.json", "EasyPost"), (usps_track, "usps_error_400.json", "USPS"),
])
def test_error_body_given_to_the_carriers_reader_is_refused_the_same_way(reader, name, carrier):
    with pytest.raises(FileRefused, match=f"^{carrier} error "):
        reader.read(HERE / name)


def test_zone_table_rules():
    assert zone_for("US", "TX", "79936") == "America/Denver"
    assert zone_for("US", "FL", "32501") == "America/Chicago"
    assert zone_for("US", "FL", "33101") == "America/New_York"
    assert zone_for("US", "FL", "32401") is None
    assert zone_for("US", "KY", "40213") is None
    assert zone_for(None, "IL", None) is None
