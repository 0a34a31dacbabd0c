"""The sandbox's fault spec: which faults its API requests get (see :mod:`recoup.sandbox`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recoup.errors import ConfigError

REQUEST_FAULTS = ("429", "500", "502", "503", "504", "timeout", "reset", "malformed")


@dataclass(frozen=True)
class Faults:
    shares: Mapping[str, float] = field(default_factory=dict)   # request fault -> probability
    latency_s: float = 0.0
    reject: float = 0.0
    partial: float = 0.0
    seed: int = 0
    retry_after_s: int = 1
    hold_s: float = 30.0


_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s)?\s*$")


def _duration(key: str, text: str) -> float:
    m = _DURATION.match(text)
    if not m:
        raise ConfigError(f"sandbox faults: {key}={text!r} is not a duration (e.g. 0.2s, 200ms)")
    value = float(m.group(1))
    return value / 1000 if m.group(2) == "ms" else value


def _share(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"sandbox faults: {key}={text!r} is not a share between 0 and 1") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"sandbox faults: {key}={text!r} is not a share between 0 and 1")
    return value


def parse_faults(spec: str | None) -> Faults:
    """Parse ``"429=0.2,500=0.1,timeout=0.05,latency=0.2s,reject=0.1,partial=0.1,seed=7"``.

    Keys: the request faults ``429 500 502 503 504 timeout reset malformed`` (shares, summing to
    at most 1), ``latency`` and ``hold`` (durations: ``0.2``, ``0.2s``, ``200ms``), ``reject`` and
    ``partial`` (shares, summing to at most 1), ``seed`` and ``retry_after`` (whole numbers).
    Raises ConfigError naming the bad item.
    """
    shares: dict[str, float] = {}
    kw: dict[str, Any] = {}
    for raw in (spec or "").split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise ConfigError(f"sandbox faults: {item!r} is not key=value")
        if key in REQUEST_FAULTS:
            shares[key] = _share(key, value)
        elif key in ("reject", "partial"):
            kw[key] = _share(key, value)
        elif key in ("latency", "hold"):
            kw[f"{key}_s"] = _duration(key, value)
        elif key in ("seed", "retry_after"):
            try:
                number = int(value.removesuffix("s"))
            except ValueError:
                raise ConfigError(f"sandbox faults: {key}={value!r} is not a whole number") from None
            kw["seed" if key == "seed" else "retry_after_s"] = number
        else:
            known = ", ".join((*REQUEST_FAULTS, "latency", "hold", "reject", "partial", "seed", "retry_after"))
            raise ConfigError(f"sandbox faults: unknown key {key!r} (known: {known})")
    if sum(shares.values()) > 1 + 1e-9:
        raise ConfigError("sandbox faults: the request fault shares add up to more than 1")
    if kw.get("reject", 0) + kw.get("partial", 0) > 1 + 1e-9:
        raise ConfigError("sandbox faults: reject + partial add up to more than 1")
    return Faults(shares=shares, **kw)

