"""Code tables (data, checked on load), shared JSON loading, and the EasyPost webhook."""

from __future__ import annotations

import json
import unicodedata
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recoup.errors import ConfigError, FileRefused
from recoup.shipments import codes, webhook
from recoup.shipments.codes.jsonscans import load_documents

from ..conftest import SAMPLES

EVENT = SAMPLES / "easypost/webhook_event_tracker_updated.json"
VECTOR = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"

TABLES = sorted(p.name for p in resources.files("recoup.shipments.codes").iterdir() if p.name.endswith(".csv"))


def test_every_table_loads_and_cites_its_source():
    assert {"easypost_status.csv", "fedex_event_types.csv", "fedex_exceptions.csv", "ups_activity_types.csv",
            "ups_exceptions.csv", "easypost_carriers.csv"} <= set(TABLES)
    for name in TABLES:
        table = codes.table(name)
        assert table.rows, name
        assert all(row["source"] for row in table.rows.values()), name


def test_tables_cover_the_sample_code_lists():
    fedex = codes.table("fedex_event_types.csv")
    for code in ("PU", "AR", "DP", "IT", "OD", "DL", "DE", "SE", "DY", "HP", "RS", "OC", "Ow", "CD"):
        assert fedex.get(code) is not None, code
    ups = codes.table("ups_activity_types.csv")
    for kind in ("D", "I", "M", "MV", "X", "DO", "DD", "W", "NA", "U"):
        assert ups.get(kind) is not None, kind
    assert ups.get("M")["status"] == ups.get("MV")["status"] == "label_created"
    assert len(codes.table("ups_exceptions.csv").rows) == 687
    assert codes.table("ups_status_codes.csv").get("003")["description"] == "Shipment Ready for UPS"


def test_missing_table_is_a_config_error():
    with pytest.raises(ConfigError, match="missing"):
        codes.table("no_such_table.csv")


@pytest.mark.parametrize(("text", "reason"), [
    ("Severe weather conditions have delayed delivery.", "weather"),
    ("The receiver was not available for delivery.", "customer"),
    ("The street number is incorrect.", "address"),
    ("Your package is pending release from a Government Agency.", "customs"),
    ("Your package was damaged in transit.", "damage"),
    ("We've misrouted the package.", "carrier"),
    ("The package is not claim eligible because the liability period has passed.", None),
    ("Your delivery will be rescheduled.", None),
    (None, None),
])
def test_reason_from_text(text, reason):
    assert codes.reason_from_text(text) == reason


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=300))
def test_load_documents_never_raises_anything_but_a_refusal(data):
    reason = None
    try:
        docs = load_documents(data, "test")
    except FileRefused as exc:
        reason = str(exc)
        docs = []
    assert reason is None or reason
    assert all(isinstance(n, int) and n >= 1 for n, _ in docs)


def test_load_documents_numbers_records():
    assert [n for n, _ in load_documents(b'[{"a":1},{"a":2}]', "x")] == [1, 2]
    assert [n for n, _ in load_documents(b'{"a":1}\n\n{"a":2}\n{"a":3}\n', "x")] == [1, 3, 4]
    assert [n for n, _ in load_documents(b'{\n"a":1\n}\n{\n"a":2}', "x")] == [1, 4]


# -- webhook --------------------------------------------------------------------------------


def test_hmac_test_vector_passes():
    body = EVENT.read_bytes()[:-1]   # the file's bytes minus the final newline
    assert EVENT.read_bytes().endswith(b"\n")
    assert webhook.verify_signature(body, VECTOR, "sécret")
    assert webhook.verify_signature(body, VECTOR.upper().replace("HMAC-SHA256-HEX=", "hmac-sha256-hex="), "sécret")
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert webhook.verify_signature(compact, VECTOR, "sécret")


def test_secret_is_nfkd_normalised():
    body = EVENT.read_bytes()[:-1]
    composed = unicodedata.normalize("NFC", "sécret")
    decomposed = unicodedata.normalize("NFD", "sécret")
    assert composed != decomposed
    assert webhook.verify_signature(body, VECTOR, composed)
    assert webhook.verify_signature(body, VECTOR, decomposed)
    assert webhook.sign(body, composed) == VECTOR


@pytest.mark.parametrize(("body_change", "header", "secret"), [
    (False, VECTOR[:-1] + "0", "sécret"),           # wrong signature
    (True, VECTOR, "sécret"),                       # tampered body
    (False, VECTOR, "secret"),                      # wrong secret
    (False, VECTOR.replace("hmac-sha256-hex=", "sha1="), "sécret"),
    (False, "", "sécret"),
    (False, None, "sécret"),
    (False, VECTOR, ""),
    (False, "hmac-sha256-hex=zz\u00e9", "sécret"),   # not hex, not ASCII
])
def test_wrong_signatures_fail(body_change, header, secret):
    body = EVENT.read_bytes()[:-1]
    if body_change:
        body = body.replace(b'"status":"pending"', b'"status":"delivered"', 1)
    assert not webhook.verify_signature(body, header, secret)


def test_parse_event_reuses_the_easypost_reader():
    result = webhook.parse_event(EVENT.read_bytes())
    assert result.format == "easypost"
    assert len(result.frame) == 7
    other = webhook.parse_event(b'{"object": "Event", "description": "batch.updated", "result": {"object": "Batch"}}')
    assert other.frame.empty
    assert any("batch.updated" in n for n in other.notes)
    with pytest.raises(FileRefused):
        webhook.parse_event(b"not json")
