"""The registry matches the carrier modules on disk; each carrier is described consistently."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import recoup.carriers as carriers_pkg
from recoup.carriers.base import ALL_KINDS, Carrier, CarrierSpec
from recoup.carriers.registry import REGISTRY, get_carrier
from recoup.channels.api import ApiChannel
from recoup.channels.base import ChannelConfig
from recoup.channels.email import EmailChannel
from recoup.channels.file import FileChannel
from recoup.channels.registry import channel_for
from recoup.errors import ConfigError

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
