"""One vocabulary for channels: ``ChannelConfig`` takes a carrier's settings by their names."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from recoup.channels.base import ChannelConfig
from recoup.settings import CarrierSettings


def test_every_channel_field_is_a_carrier_setting_with_the_same_default() -> None:
    settings = CarrierSettings.model_fields
    for f in dataclasses.fields(ChannelConfig):
        if f.name == "clock":           # recoup's clock, not a setting
            continue
        assert f.name in settings, f"ChannelConfig.{f.name} has no carrier setting"
        assert settings[f.name].default == f.default, f.name


def test_from_settings_takes_every_shared_field_and_the_overrides_win(tmp_path: Path) -> None:
    cs = CarrierSettings(channel="email", api_url="http://api.example", api_key="k", rate_limit_per_s=2.0,
                         timeout_s=3.0, batch_budget_s=4.0, max_attempts=6, backoff_initial_s=0.1,
                         backoff_max_s=0.2, max_wait_s=7.0, smtp_url="smtp://h", claims_email="c@d.example",
                         from_email="a@b.example", outbox=tmp_path, file_format="xlsx",
                         tracking_api_url="http://track.example")
    config = ChannelConfig.from_settings(cs, outbox=tmp_path / "other")
    for f in dataclasses.fields(ChannelConfig):
        if f.name not in ("clock", "outbox"):
            assert getattr(config, f.name) == getattr(cs, f.name), f.name
    assert config.outbox == tmp_path / "other"
    assert config.clock is None
