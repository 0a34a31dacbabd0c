"""Carrier contracts: load and validate the TOML files of spec/contracts.md.

A contract that fails to load names the file, the key and the reason
(:class:`recoup.errors.ConfigError`); recoup then refuses to audit that carrier rather than guess.

The loader lives here; what a contract holds is :mod:`recoup.sla.model` and the reading of its TOML
tables, numbers and CSV files :mod:`recoup.sla.reading`. Every name of both is re-exported here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recoup.errors import ConfigError
from recoup.money import to_cents
from recoup.settings import read_toml
from recoup.sla.model import (
    CHANNELS,
    DAMAGE_ANCHORS,
    LB_IN_KG,
    LOSS_ANCHORS,
    WEEKDAYS,
    WINDOW_ANCHORS,
    AccountFee,
    Calendar,
    ClaimRules,
    Contract,
    ContractSet,
    DeclaredValueFee,
    FuelRow,
    PackageLimits,
    PeakPeriod,
    RateCard,
    Relaxation,
    Service,
    Suspension,
    ZoneChart,
    normalise_postal,
)
from recoup.sla.reading import (
    BOUNDS,
    DEFAULT_BOUNDS,
    MAX_DAYS,
    _Reader,
    load_das,
    load_rate_card,
    load_zone_chart,
)

__all__ = [
    "BOUNDS", "CHANNELS", "DAMAGE_ANCHORS", "DEFAULT_BOUNDS", "LB_IN_KG", "LOSS_ANCHORS", "MAX_DAYS",
    "WEEKDAYS", "WINDOW_ANCHORS", "AccountFee", "Calendar", "ClaimRules", "Contract", "ContractSet",
    "DeclaredValueFee", "FuelRow", "PackageLimits", "PeakPeriod", "RateCard", "Relaxation", "Service",
    "Suspension", "ZoneChart", "load_contract", "load_contracts", "load_das", "load_rate_card",
    "load_zone_chart", "normalise_postal",
]


def _time(r: _Reader, key: str) -> dt.time | None:
    v = r.get(key, str, None)
    if v is None:
        return None
    try:
        hh, mm = v.split(":")
        return dt.time(int(hh), int(mm))
    except ValueError:
        raise r.fail(key, f"not a time HH:MM: {v!r}") from None


def load_contract(path: Path) -> Contract:
    path = Path(path)
    data = read_toml(path)
    r = _Reader(path, data)
    r.only("carrier", "name", "account_numbers", "currency", "weight_unit", "dim_unit", "dim_divisor",
           "weight_increment", "dim_rounding", "calendar", "claims", "gsr_suspensions", "services", "fuel",
           "surcharges", "account_fees", "corrections", "zone_chart", "gsr_relaxations")
    carrier = r.get("carrier", str)
    if not carrier or not carrier.replace("_", "").isalnum() or carrier != carrier.lower():
        raise r.fail("carrier", f"a lower-case code like 'ups' or 'dpd_uk', got {carrier!r}")
    currency = r.get("currency", str)
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise r.fail("currency", f"an ISO 4217 code like 'USD', got {currency!r}")

    c = r.table("calendar")
    c.only("country", "subdivision", "holidays", "extra_holidays", "business_days", "timezone")
    tz = c.get("timezone", str)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise c.fail("timezone", f"unknown IANA time zone {tz!r}") from None
    bdays = c.strings("business_days", ["mon", "tue", "wed", "thu", "fri"])
    for i, b in enumerate(bdays):
        if b.lower() not in WEEKDAYS:
            raise c.fail(f"business_days[{i}]", f"one of {', '.join(WEEKDAYS)}, got {b!r}")
    if not bdays:
        raise c.fail("business_days", "at least one business day")
    country = c.get("country", str, "")
    subdivision = c.get("subdivision", str, "")
    holidays_list = c.dates("holidays")
    if not holidays_list and country:
        import holidays as hol

        try:
            hol.country_holidays(country, subdiv=subdivision or None, years=2026)
        except NotImplementedError:
            raise c.fail("country", f"the holidays package has no calendar for {country!r}") from None
        except Exception as e:  # the holidays package raises plain errors for bad subdivisions
            raise c.fail("subdivision", f"{subdivision!r} for {country}: {e}") from None
    calendar = Calendar(
        country=country, subdivision=subdivision, holidays=holidays_list,
        extra_holidays=c.dates("extra_holidays"),
        business_days=tuple(sorted({WEEKDAYS[b.lower()] for b in bdays})), timezone=tz,
    )

    k = r.table("claims")
    k.only("channel", "late_window_days", "late_window_from", "loss_window_days", "damage_window_days",
           "dispute_window_days", "lost_after_days", "void_after_days", "default_liability",
           "value_claims_refund_shipping", "late_refund_charges", "excluded_exception_reasons",
           "carrier_caused_reasons", "loss_window_from", "damage_window_from", "liability_per_kg")
    refund = k.strings("late_refund_charges", ["transportation"])
    per_kg = None
    if "liability_per_kg" in k.data:
        per_kg = k.decimal("liability_per_kg")
        if "default_liability" not in k.data:
            raise k.fail("liability_per_kg", "needs default_liability, the per-parcel cap beside the per-kg limit "
                         "(a large one where there is no per-parcel cap)")
    claims = ClaimRules(
        channel=k.choice("channel", CHANNELS, "api"),  # type: ignore[arg-type]
        late_window_days=k.non_negative_int("late_window_days"),
        late_window_from=k.choice("late_window_from", WINDOW_ANCHORS, "promised"),  # type: ignore[arg-type]
        loss_window_days=k.non_negative_int("loss_window_days"),
        damage_window_days=k.non_negative_int("damage_window_days"),
        dispute_window_days=k.non_negative_int("dispute_window_days"),
        lost_after_days=k.non_negative_int("lost_after_days"),
        void_after_days=k.non_negative_int("void_after_days"),
        default_liability_cents=k.money("default_liability", "0"),
        value_claims_refund_shipping=k.get("value_claims_refund_shipping", bool, True),
        late_refund_charges=refund,
        excluded_exception_reasons=k.strings("excluded_exception_reasons", []),
        loss_window_from=k.choice("loss_window_from", LOSS_ANCHORS, "ship"),  # type: ignore[arg-type]
        damage_window_from=k.choice("damage_window_from", DAMAGE_ANCHORS, "delivered"),  # type: ignore[arg-type]
        liability_per_kg=per_kg,
    )

    suspensions = []
    for s in r.tables("gsr_suspensions"):
        s.only("from", "to", "services")
        start, end = s.date("from"), s.date("to")
        if end < start:
            raise s.fail("to", "ends before it starts")
        suspensions.append(Suspension(start, end, s.strings("services", ["*"])))
    relaxations = []
    for s in r.tables("gsr_relaxations"):
        s.only("from", "to", "services", "extra_days", "source")
        start, end = s.date("from"), s.date("to")
        if end < start:
            raise s.fail("to", "ends before it starts")
        extra = s.non_negative_int("extra_days")
        if extra < 1:
            raise s.fail("extra_days", "at least 1 business day (a row of 0 changes nothing)")
        s.get("source", str, "")
        relaxations.append(Relaxation(start, end, s.strings("services", ["*"]), extra))

    services: dict[str, Service] = {}
    for s in r.tables("services"):
        s.only("code", "name", "guaranteed", "transit_days", "commit_time", "rates", "invoice_codes",
               "incentive_percent", "published_rates", "minimum_charge", "zone_chart",
               "first_attempt_meets_guarantee")
        code = s.get("code", str)
        if code in services:
            raise s.fail("code", f"service {code!r} defined twice")
        guaranteed = s.get("guaranteed", bool, False)
        transit = s.get("transit_days", int, None)
        if transit is not None and not 0 <= transit <= MAX_DAYS:
            raise s.fail("transit_days", f"must be between 0 and {MAX_DAYS}")
        rates_rel = s.get("rates", str, None)
        rates = load_rate_card(path.parent / rates_rel, f"{path}: {s.prefix}rates") if rates_rel else None
        pub_rel = s.get("published_rates", str, None)
        zc_rel = s.get("zone_chart", str, None)
        services[code] = Service(
            code=code, name=s.get("name", str, code), guaranteed=guaranteed, transit_days=transit,
            commit_time=_time(s, "commit_time"), rates=rates, invoice_codes=s.strings("invoice_codes", []),
            incentive_percent=s.decimal("incentive_percent") if "incentive_percent" in s.data else None,
            published_rates=load_rate_card(path.parent / pub_rel, f"{path}: {s.prefix}published_rates")
            if pub_rel else None,
            minimum_charge_cents=s.money("minimum_charge") if "minimum_charge" in s.data else None,
            zone_chart=load_zone_chart(path.parent / zc_rel, f"{path}: {s.prefix}zone_chart") if zc_rel else None,
            first_attempt_meets_guarantee=s.get("first_attempt_meets_guarantee", bool, False),
        )

    fuel = []
    for f in r.tables("fuel"):
        f.only("effective", "percent", "services")
        fuel.append(FuelRow(f.date("effective"), f.decimal("percent"), f.strings("services", [])))

    sur = r.table("surcharges", required=False)
    sur.only("das_postal_codes", "additional_handling", "large_package", "declared_value", "peak", "signature")
    peak = None
    if "peak" in sur.data:
        peak = []
        for t in sur.tables("peak"):
            t.only("from", "to", "services", "max", "source")
            start, end = t.date("from"), t.date("to")
            if end < start:
                raise t.fail("to", "ends before it starts")
            t.get("source", str, "")
            peak.append(PeakPeriod(start, end, t.strings("services", ["*"]),
                                   t.money("max") if "max" in t.data else None))
    sig: dict[str, int] = {}
    if "signature" in sur.data:
        t = sur.table("signature")
        t.only("direct", "adult")
        sig = {k: t.money(k) for k in ("direct", "adult") if k in t.data}
    limits = {}
    for key in ("additional_handling", "large_package"):
        if key in sur.data:
            t = sur.table(key)
            t.only("longest", "second_longest", "length_plus_girth", "weight")
            limits[key] = PackageLimits(**{k: t.decimal(k, positive=True) if k in t.data else None
                                           for k in ("longest", "second_longest", "length_plus_girth", "weight")})
    dv = None
    if "declared_value" in sur.data:
        t = sur.table("declared_value")
        t.only("free_up_to", "per_100", "minimum")
        dv = DeclaredValueFee(
            free_up_to_cents=to_cents(t.decimal("free_up_to", k.decimal("default_liability", "0"))),
            per_100_cents=to_cents(t.decimal("per_100")) if "per_100" in t.data else None,
            minimum_cents=to_cents(t.decimal("minimum", "0")))
    fees = []
    for f in r.tables("account_fees"):
        f.only("match", "max", "source")
        m = f.get("match", str).strip().lower()
        if not m:
            raise f.fail("match", "the text a fee's description contains, not empty")
        mx = f.decimal("max", "0")
        if mx < 0:
            raise f.fail("max", f"must be 0 or more, got {mx}")
        fees.append(AccountFee(m, to_cents(mx), f.get("source", str, "")))
    corr = r.table("corrections", required=False)
    corr.only("weight_tolerance")
    tolerance = corr.decimal("weight_tolerance", "0")
    if tolerance < 0:
        raise corr.fail("weight_tolerance", f"must be 0 or more, got {tolerance}")
    zc = r.get("zone_chart", str, None)
    das_rel = sur.get("das_postal_codes", str, None)
    das_path = path.parent / das_rel if das_rel else None
    das = load_das(das_path, f"{path}: surcharges.das_postal_codes") if das_path else None

    weight_unit = r.choice("weight_unit", ("lb", "kg"), "lb")
    return Contract(
        path=path, carrier=carrier, name=r.get("name", str, carrier),
        account_numbers=r.strings("account_numbers", []), currency=currency,
        weight_unit=weight_unit,  # type: ignore[arg-type]
        dim_unit=r.choice("dim_unit", ("in", "cm"), "in" if weight_unit == "lb" else "cm"),  # type: ignore[arg-type]
        dim_divisor=r.decimal("dim_divisor", positive=True),
        weight_increment=r.decimal("weight_increment", "1", positive=True),
        dim_rounding=r.choice("dim_rounding", ("up", "half_up"), "up"),  # type: ignore[arg-type]
        calendar=calendar, claims=claims, suspensions=tuple(suspensions), services=services,
        fuel=tuple(sorted(fuel, key=lambda x: x.effective)), das_postal_codes=das, das_path=das_path,
        additional_handling=limits.get("additional_handling"), large_package=limits.get("large_package"),
        declared_value_fee=dv, account_fees=tuple(fees), correction_tolerance=tolerance,
        zone_chart=load_zone_chart(path.parent / zc, f"{path}: zone_chart") if zc else None,
        peak=None if peak is None else tuple(peak), signature_fees=sig,
        carrier_caused_reasons=k.strings("carrier_caused_reasons", ["carrier"]),
        relaxations=tuple(relaxations),
    )



def load_contracts(folder: Path) -> ContractSet:
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"contracts folder {folder} does not exist (set --contracts or RECOUP_CONTRACTS)")
    contracts, errors = [], []
    for p in sorted(folder.glob("*.toml")):
        try:
            contracts.append(load_contract(p))
        except ConfigError as e:
            errors.append(str(e))
    return ContractSet(folder, contracts, errors)
