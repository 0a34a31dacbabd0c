"""The carrier charge maps are data: every row valid and sourced, and the codes the spec names mapped."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from recoup.errors import ConfigError
from recoup.invoices.charges import DISCOUNT, charge_map
from recoup.vocabulary import CHARGE_TYPES

TABLES = ["ups_charges.csv", "fedex_charges.csv", "dhl_charges.csv"]


@pytest.mark.parametrize("name", TABLES)
def test_every_row_has_a_known_charge_type_a_comment_and_a_source(name: str) -> None:
    text = resources.files("recoup.invoices.charges").joinpath(name).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert rows
    for row in rows:
        assert row["charge_type"] in CHARGE_TYPES | {DISCOUNT}, row
        assert row["source"].strip(), row
        assert row["comment"].strip(), row
    assert charge_map(name).rules


@pytest.mark.parametrize(("code", "charge_type"), [
    ("RES", "residential"), ("RDC", "delivery_area"), ("RDR", "delivery_area"), ("LDC", "delivery_area"),
    ("LDR", "delivery_area"), ("AHG", "additional_handling"), ("AHL", "additional_handling"),
    ("AHW", "additional_handling"), ("AHC", "additional_handling"), ("ADC", "address_correction"),
])
def test_ups_accessorial_codes_named_in_the_spec(code: str, charge_type: str) -> None:
    assert charge_map("ups_charges.csv").lookup(detail="", classification="ACC", code=code, description="") == charge_type


@pytest.mark.parametrize(("classification", "detail", "charge_type"), [
    ("FRT", "", "transportation"), ("FSC", "", "fuel"), ("TAX", "", "other"), ("GOV", "", "other"),
    ("BRK", "", "other"), ("FRT", "ADC", "address_correction"), ("FRT", "SCC", "transportation"),
])
def test_ups_classifications(classification: str, detail: str, charge_type: str) -> None:
    table = charge_map("ups_charges.csv")
    assert table.lookup(detail=detail, classification=classification, code="3", description="") == charge_type


def test_dhl_fuel_is_ff() -> None:
    assert charge_map("dhl_charges.csv").lookup(code="FF", name="") == "fuel"
    assert charge_map("dhl_charges.csv").lookup(code="ff ", name="") == "fuel"


def test_a_missing_table_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="missing"):
        charge_map("nope.csv")
