"""Reading a contract's files: typed access to its TOML tables (messages naming file and key), the
bounds of its numbers, and the CSV and text files it points to (rate cards, zone charts, DAS lists).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from recoup.errors import ConfigError
from recoup.money import to_cents
from recoup.sla.model import RateCard, ZoneChart


class _Reader:
    """Typed access to one TOML table with messages that name file and key."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, reason: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key}: {reason}")

    def only(self, *allowed: str) -> None:
        """Refuse keys this table does not know: a typo must not load as a default."""
        for k in self.data:
            if k not in allowed:
                raise self.fail(k, f"unknown key (known: {', '.join(allowed)})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = True) -> Any:
        if key not in self.data:
            if default is not ...:
                return default
            raise self.fail(key, "missing")
        v = self.data[key]
        if kind is int and isinstance(v, bool):
            raise self.fail(key, f"expected an integer, got {v!r}")
        if not isinstance(v, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(key, f"expected {names}, got {v!r}")
        return v

    def decimal(self, key: str, default: Any = ..., *, positive: bool = False,
                bounds: tuple[Decimal, Decimal] | None = None) -> Decimal:
        """A number; within ``bounds`` (inclusive; every key has one, see :data:`BOUNDS`)."""
        v = self.get(key, (str, int, float), default)
        if isinstance(v, Decimal):
            return v
        try:
            d = Decimal(str(v).strip()) if len(str(v)) <= 40 else Decimal("NaN")
        except InvalidOperation:
            raise self.fail(key, f"not a number: {v!r}") from None
        if not d.is_finite():
            raise self.fail(key, f"not a number: {v!r}")
        if positive and d <= 0:
            raise self.fail(key, f"must be a positive number, got {v!r}")
        lo, hi = bounds or BOUNDS.get(key.rsplit(".", 1)[-1], DEFAULT_BOUNDS)
        if not lo <= d <= hi:
            raise self.fail(key, f"must be between {lo} and {hi}, got {v!r}")
        return d

    def money(self, key: str, default: Any = ...) -> int:
        """An amount in cents: at most two decimals, within :data:`BOUNDS`."""
        d = self.decimal(key, default)
        try:
            return to_cents(d)
        except ValueError as e:
            raise self.fail(key, f"{e}") from None

    def non_negative_int(self, key: str, default: Any = ...) -> int:
        v = self.get(key, int, default)
        if v < 0 or v > MAX_DAYS:
            raise self.fail(key, f"must be between 0 and {MAX_DAYS}, got {v}")
        return int(v)

    def choice(self, key: str, options: tuple[str, ...], default: Any = ...) -> str:
        v = self.get(key, str, default)
        if v not in options:
            raise self.fail(key, f"must be one of {', '.join(options)}, got {v!r}")
        return str(v)

    def date(self, key: str, value: Any = ...) -> dt.date:
        v = self.data.get(key) if value is ... else value
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v
        try:
            return dt.date.fromisoformat(str(v))
        except ValueError:
            raise self.fail(key, f"not a date (YYYY-MM-DD): {v!r}") from None

    def dates(self, key: str) -> tuple[dt.date, ...]:
        vs = self.get(key, list, [])
        return tuple(self.date(f"{key}[{i}]", v) for i, v in enumerate(vs))

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        vs = self.get(key, list, default)
        for i, v in enumerate(vs):
            if not isinstance(v, str):
                raise self.fail(f"{key}[{i}]", f"expected text, got {v!r}")
        return tuple(vs)

    def table(self, key: str, *, required: bool = True) -> _Reader:
        v = self.data.get(key)
        if v is None:
            if required:
                raise self.fail(key, "missing table")
            v = {}
        if not isinstance(v, dict):
            raise self.fail(key, "expected a table")
        return _Reader(self.path, v, f"{self.prefix}{key}.")

    def tables(self, key: str) -> list[_Reader]:
        v = self.data.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.fail(key, "expected an array of tables ([[...]])")
        return [_Reader(self.path, x, f"{self.prefix}{key}[{i}].") for i, x in enumerate(v)]


#: Bounds of every number a contract holds (inclusive), by key: a value outside is refused by
#: ``contracts check`` and never reaches an audit (``default_liability = "1e400"`` did).
BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    "default_liability": (Decimal(0), Decimal(1_000_000)),     # money, in the contract's currency
    "rate": (Decimal(0), Decimal(1_000_000)),                  # a rate card's price
    "weight": (Decimal(0), Decimal(100_000)),                  # a rate card's weight (lb or kg)
    "percent": (Decimal(0), Decimal(100)),                     # a fuel surcharge, in percent
    "dim_divisor": (Decimal(1), Decimal(10**12)),             # a huge one turns dim weight off (royal_mail)
    "weight_increment": (Decimal("0.001"), Decimal(1_000)),
    "incentive_percent": (Decimal(0), Decimal(100)),           # an incentive off the published price, in percent
    "minimum_charge": (Decimal(0), Decimal(1_000_000)),        # money
    "max": (Decimal(0), Decimal(1_000_000)),                   # money: a peak surcharge or an account fee at most
    "direct": (Decimal(0), Decimal(1_000_000)),                # money: a signature fee
    "adult": (Decimal(0), Decimal(1_000_000)),
    "liability_per_kg": (Decimal(0), Decimal(1_000_000)),       # money per kilogram
}
DEFAULT_BOUNDS = (Decimal(-1_000_000), Decimal(1_000_000))
MAX_DAYS = 3650                                                # windows and transit times, in days


def load_rate_card(path: Path, where: str) -> RateCard:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start}): save the rate card as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{where}: cannot read rate card {path}: {e.strerror}") from None
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if not rows or rows[0][0].strip().lower() != "weight" or len(rows[0]) < 2:
        raise ConfigError(f"{path}: line 1: a rate card starts with a header 'weight,<zone>,...'")
    zones = [z.strip() for z in rows[0][1:]]
    weights: list[Decimal] = []
    cols: list[list[int | None]] = [[] for _ in zones]
    for n, r in enumerate(rows[1:], start=2):
        try:
            w = Decimal(r[0].strip()) if len(r[0]) <= 40 else Decimal("NaN")
        except InvalidOperation:
            raise ConfigError(f"{path}: line {n}: column weight: not a number: {r[0]!r}") from None
        lo, hi = BOUNDS["weight"]
        if not w.is_finite() or not lo < w <= hi:
            raise ConfigError(f"{path}: line {n}: column weight: must be above {lo} and at most {hi}: {r[0]!r}")
        if weights and w <= weights[-1]:
            raise ConfigError(f"{path}: line {n}: column weight: weights must ascend")
        weights.append(w)
        for i, z in enumerate(zones):
            cell = r[i + 1].strip() if i + 1 < len(r) else ""
            if not cell:
                cols[i].append(None)
                continue
            lo, hi = BOUNDS["rate"]
            try:
                if len(cell) > 40 or not lo <= Decimal(cell) <= hi:
                    raise ValueError(cell)
                cols[i].append(to_cents(cell))
            except (ValueError, InvalidOperation):
                raise ConfigError(f"{path}: line {n}: column {z}: not an amount between {lo} and {hi} "
                                  f"with at most two decimals: {cell[:40]!r}") from None
    return RateCard(path=path, weights=tuple(weights), zones={z: tuple(c) for z, c in zip(zones, cols, strict=True)})


def load_zone_chart(path: Path, where: str) -> ZoneChart:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start}): save the zone chart as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{where}: cannot read zone chart {path}: {e.strerror}") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if not rows or [c.strip().lower() for c in rows[0][:3]] != ["origin", "dest", "zone"]:
        raise ConfigError(f"{path}: line 1: a zone chart starts with a header 'origin,dest,zone'")
    out: dict[str, list[tuple[str, str, str]]] = {}
    for n, r in enumerate(rows[1:], start=2):
        if len(r) < 3 or not all(c.strip() for c in r[:3]):
            raise ConfigError(f"{path}: line {n}: origin, dest and zone are required")
        o = "".join(r[0].split()).upper()
        d = "".join(r[1].split()).upper()
        lo, _, hi = d.partition("-")
        hi = hi or lo
        if len(lo) != len(hi) or lo > hi:
            raise ConfigError(f"{path}: line {n}: column dest: a prefix or a range lo-hi of one length: {r[1]!r}")
        out.setdefault(o, []).append((lo, hi, r[2].strip()))
    return ZoneChart(path=path, rows={k: tuple(v) for k, v in out.items()})


def load_das(path: Path, where: str) -> frozenset[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start}): save the DAS list as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{where}: cannot read DAS list {path}: {e.strerror}") from None
    out = set()
    for ln in lines:
        ln = ln.split("#", 1)[0].strip()
        if ln:
            out.add("".join(ln.split()).upper())
    return frozenset(out)

