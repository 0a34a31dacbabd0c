"""The registry matches the carrier modules on disk; each carrier is described consistently."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

import recoup.carriers as carriers_pkg
from recoup.carriers.base import ALL_KINDS, PIECES, Carrier, CarrierSpec
from recoup.carriers.registry import REGISTRY, get_carrier
from recoup.channels.api import ApiChannel
from recoup.channels.base import ChannelConfig
from recoup.channels.email import EmailChannel
from recoup.channels.file import FileChannel
from recoup.channels.registry import channel_for
from recoup.errors import ConfigError
from recoup.ingest.formats import READERS
from recoup.shipments.codes import easypost_carrier

# Modules of the package that are not carriers.
INFRASTRUCTURE = {"base", "registry"}


def test_registry_matches_modules_on_disk() -> None:
    on_disk = {m.name for m in pkgutil.iter_modules(carriers_pkg.__path__)}
    carrier_modules = on_disk - INFRASTRUCTURE
    assert carrier_modules == set(REGISTRY), "every carrier module is registered, and only those"
    for name in carrier_modules:
        module = importlib.import_module(f"recoup.carriers.{name}")
        assert module.code == name
        assert module.CARRIER is REGISTRY[name]
        assert module.CARRIER.code == name


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_each_carrier_satisfies_the_protocol(code: str) -> None:
    carrier: Carrier = REGISTRY[code]
    assert isinstance(carrier, CarrierSpec)
    assert carrier.default_channel in ("api", "email", "file")
    assert carrier.accepted_kinds <= ALL_KINDS
    for kind in carrier.accepted_kinds:
        assert carrier.claim_type(kind) in {"damage", "loss", "late_delivery", "billing"}
    assert len(carrier.dispute_headers()) == len(set(carrier.dispute_headers()))


def test_default_channels_follow_the_domain() -> None:
    channels = {code: c.default_channel for code, c in REGISTRY.items()}
    assert channels == {
        "ups": "file", "fedex": "file", "usps": "api", "dhl_express": "email",
        "royal_mail": "email", "dpd_uk": "email", "evri": "email",
    }


def test_claim_types_and_refusals() -> None:
    ups = get_carrier("ups")
    assert ups.claim_type("lost") == "loss"
    assert ups.claim_type("damaged") == "damage"
    assert ups.claim_type("late_delivery") == "late_delivery"
    assert ups.claim_type("dim_weight") == "billing"
    assert ups.reason_code("late_delivery") == "GSR"
    evri = get_carrier("evri")
    assert "late_delivery" not in evri.accepted_kinds      # domain.md §1.6 [R49]
    with pytest.raises(ValueError, match="does not accept"):
        evri.claim_type("late_delivery")


def test_no_claims_address_is_invented() -> None:
    # domain.md names no claims e-mail address for any carrier: the merchant sets them.
    assert all(c.claims_email is None for c in REGISTRY.values())


def test_channel_for_picks_the_configured_or_default_channel(tmp_path: Path) -> None:
    assert isinstance(channel_for("usps", ChannelConfig(api_url="http://127.0.0.1:1")), ApiChannel)
    assert isinstance(channel_for("ups", ChannelConfig(outbox=tmp_path)), FileChannel)
    email = channel_for("dpd_uk", ChannelConfig(claims_email="claims@dpd.example", from_email="a@b.example",
                                                smtp_url="smtp://127.0.0.1:25"))
    assert isinstance(email, EmailChannel)
    assert isinstance(channel_for("ups", ChannelConfig(channel="api", api_url="http://x")), ApiChannel)


@pytest.mark.parametrize(("code", "config", "needle"), [
    ("nope", ChannelConfig(), "unknown carrier"),
    ("usps", ChannelConfig(), "API_URL"),
    ("ups", ChannelConfig(), "OUTBOX"),
    ("dpd_uk", ChannelConfig(from_email="a@b.example", smtp_url="smtp://h"), "CLAIMS_EMAIL"),
    ("dpd_uk", ChannelConfig(claims_email="c@d.example", smtp_url="smtp://h"), "FROM_EMAIL"),
    ("dpd_uk", ChannelConfig(claims_email="c@d.example", from_email="a@b.example"), "SMTP_URL"),
])
def test_channel_for_names_the_missing_setting(code: str, config: ChannelConfig, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        channel_for(code, config)


def test_channel_config_repr_hides_secrets() -> None:
    text = repr(ChannelConfig(api_key="sk_live_secret", smtp_url="smtp://u:hunter2@h:25"))
    assert "sk_live_secret" not in text
    assert "hunter2" not in text


# ---------------------------------------------------------------------------------------------
# A carrier in one place: its module names every piece recoup holds about it (CarrierData), every
# reference resolves, every carrier-specific data file is claimed, and a missing piece is named.
# ---------------------------------------------------------------------------------------------

SRC = Path(carriers_pkg.__file__).resolve().parents[1]
# Data files that belong to no one carrier.
SHARED_TABLES = {"shipments/codes/easypost_status.csv", "shipments/codes/easypost_carriers.csv",
                 "shipments/codes/exception_keywords.csv", "shipments/codes/location_zones.csv"}
GENERIC_READERS = {"shipments:canonical", "scans:canonical", "scans:easypost", "scans:carrier_error",
                   "invoices:canonical", "invoices:pdf"}


def _pdf_config() -> dict[str, Any]:
    return tomllib.loads((SRC / "invoices" / "pdf_layouts.toml").read_text(encoding="utf-8"))


def missing_pieces(code: str, carrier: CarrierSpec) -> list[str]:
    """What the carrier's module lacks or names wrongly, one line each (empty: complete)."""
    data = carrier.data
    pdf = _pdf_config()
    layouts = {layout["name"]: layout["carrier"] for layout in pdf.get("layout", [])}
    readers = {f"{r.kind}:{r.name}" for r in READERS}
    problems = []
    for piece in PIECES:
        value = getattr(data, piece)
        if not value and piece not in data.why_none:
            problems.append(f"{code}: no {piece}, and no reason in why_none")
        if value and piece in data.why_none:
            problems.append(f"{code}: {piece} given and also why_none[{piece!r}]")
    for path in (data.contract, *data.code_tables, *data.charge_maps):
        if not (SRC / path).is_file():
            problems.append(f"{code}: {path} does not exist")
    if data.contract != f"contracts_default/{code}.toml":
        problems.append(f"{code}: contract {data.contract} is not contracts_default/{code}.toml")
    problems += [f"{code}: PDF layout {n!r} not in pdf_layouts.toml for {code}"
                 for n in data.pdf_layouts if layouts.get(n) != code]
    problems += [f"{code}: no [charges] {k!r} in pdf_layouts.toml" for k in data.pdf_charges if k not in pdf["charges"]]
    problems += [f"{code}: reader {r!r} not in recoup.ingest.formats.READERS" for r in data.readers if r not in readers]
    if easypost_carrier(data.easypost_name) != code:
        problems.append(f"{code}: EasyPost name {data.easypost_name!r} is not mapped to {code} "
                        "in shipments/codes/easypost_carriers.csv")
    if not carrier.dispute_columns:
        problems.append(f"{code}: no dispute-file template (dispute_columns)")
    return problems


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_each_carrier_names_every_piece(code: str) -> None:
    assert missing_pieces(code, REGISTRY[code]) == []


def test_a_missing_piece_is_named() -> None:
    ups = REGISTRY["ups"]
    broken = dataclasses.replace(ups, data=dataclasses.replace(
        ups.data, code_tables=(), charge_maps=("invoices/charges/nope.csv",), readers=("scans:nope",)))
    assert missing_pieces("ups", broken) == [
        "ups: no code_tables, and no reason in why_none",
        "ups: invoices/charges/nope.csv does not exist",
        "ups: reader 'scans:nope' not in recoup.ingest.formats.READERS",
    ]


def test_every_carrier_specific_file_is_claimed_by_its_carrier() -> None:
    claimed = {p: code for code, c in REGISTRY.items() for p in (*c.data.code_tables, *c.data.charge_maps)}
    tables = {str(p.relative_to(SRC)) for folder in ("shipments/codes", "invoices/charges")
              for p in (SRC / folder).glob("*.csv")}
    assert sorted(tables - SHARED_TABLES - set(claimed)) == [], "a carrier's data file no carrier module names"
    contracts = {p.stem for p in (SRC / "contracts_default").glob("*.toml")}
    assert contracts == set(REGISTRY), "every default contract is a registered carrier's, and each has one"
    pdf = _pdf_config()
    claimed_layouts = {n for c in REGISTRY.values() for n in c.data.pdf_layouts}
    assert {layout["name"] for layout in pdf.get("layout", [])} == claimed_layouts
    claimed_charges = {k for c in REGISTRY.values() for k in c.data.pdf_charges}
    assert set(pdf["charges"]) - {"default"} == claimed_charges
    claimed_readers = {r for c in REGISTRY.values() for r in c.data.readers}
    assert {f"{r.kind}:{r.name}" for r in READERS} - GENERIC_READERS == claimed_readers


def test_every_kind_the_audit_files_by_itself_can_be_filed() -> None:
    """A claimable finding of a kind no carrier accepts went to needs_attention ("UPS does not accept
    account_fee claims"): every kind the audit files without a person (recoup rules: automatic) is a
    service or billing kind, with a claim type and a reason code at UPS and FedEx (they accept all)."""
    from recoup.audit.rules import all_rules

    automatic = {r.kind for r in all_rules() if r.automatic}
    assert automatic - ALL_KINDS == set()
    for code in ("ups", "fedex"):
        spec = get_carrier(code)
        for kind in sorted(automatic):
            assert spec.accepts(kind), (code, kind)
            assert spec.claim_type(kind) in {"late_delivery", "loss", "damage", "billing"}, (code, kind)
            assert spec.reason_codes[kind], (code, kind)
