"""The 11 finding kinds of spec/audits.md, judged together in ``core`` (one pass, because a claimable
service finding suppresses the billing findings it refunds), described for ``recoup rules``."""

from __future__ import annotations

from recoup.audit.rules.base import RuleInfo

_SPEC = "shared/spec/audits.md"
_WINDOW = "claims.dispute_window_days"

CORE_RULES: list[RuleInfo] = [
    RuleInfo("lost", "no delivery and no news for claims.lost_after_days (or a lost scan): value due, plus the "
             "shipping when the contract refunds it", (f"{_SPEC} #lost", "domain.md §2 [R3][R57][R58][R64][R76]"),
             ("claims.lost_after_days", "claims.loss_window_days", "claims.loss_window_from",
              "claims.default_liability", "claims.liability_per_kg", "claims.value_claims_refund_shipping"), f"{_SPEC}#lost"),
    RuleInfo("damaged", "a damaged event or a damage exception: value due, plus the shipping when refunded",
             (f"{_SPEC} #damaged", "domain.md §2 [R58][R64]"),
             ("claims.damage_window_days", "claims.damage_window_from", "claims.default_liability",
              "claims.liability_per_kg", "claims.value_claims_refund_shipping"),
             f"{_SPEC}#damaged"),
    RuleInfo("void_label", "billed, but never scanned by the carrier claims.void_after_days after the ship date",
             (f"{_SPEC} #void_label", "domain.md §3 'Manifested but not shipped' [R104][R106]"),
             ("claims.void_after_days", _WINDOW), f"{_SPEC}#void_label"),
    RuleInfo("late_delivery", "a guaranteed service delivered after its commit time: the refunded charge types",
             (f"{_SPEC} #late_delivery", "domain.md §1 [R1][R2][R17][R36]"),
             ("services.guaranteed", "services.transit_days", "services.commit_time", "claims.late_window_days",
              "claims.late_window_from", "claims.late_refund_charges", "claims.excluded_exception_reasons",
              "gsr_suspensions", "gsr_relaxations"), f"{_SPEC}#late_delivery"),
    RuleInfo("duplicate_charge", "the same charge type and amount billed again for one parcel",
             (f"{_SPEC} #terms", "domain.md §3 'Duplicate billing' [R102][R103]"), (_WINDOW,),
             f"{_SPEC}#billing-findings"),
    RuleInfo("residential_surcharge", "a residential surcharge on an address the manifest says is commercial",
             (f"{_SPEC} #billing-findings", "domain.md §3 [R120][R121][R122]"), (_WINDOW,),
             f"{_SPEC}#billing-findings"),
    RuleInfo("address_correction", "an address correction fee on an address validated before shipping",
             (f"{_SPEC} #billing-findings", "domain.md §3 [R123][R124]"), (_WINDOW,), f"{_SPEC}#billing-findings"),
    RuleInfo("delivery_area_surcharge", "a delivery area surcharge to a postal code not in the contract's DAS list",
             (f"{_SPEC} #billing-findings", "domain.md §3 [R126][R128]"),
             ("surcharges.das_postal_codes", _WINDOW), f"{_SPEC}#billing-findings"),
    RuleInfo("dim_weight", "transportation billed at a weight above the correct billable (dimensional) weight",
             (f"{_SPEC} #billing-findings", "domain.md §3 'Dimensional weight' [R109][R112]"),
             ("dim_divisor", "weight_increment", "dim_rounding", "weight_unit", "dim_unit", "services.rates",
              _WINDOW), f"{_SPEC}#billing-findings"),
    RuleInfo("rate_overcharge", "transportation priced above the contract's rate card at the correct weight",
             (f"{_SPEC} #billing-findings", "domain.md §3 'Wrong zone / rate / discount' [R102][R138]"),
             ("services.rates", _WINDOW), f"{_SPEC}#billing-findings"),
    RuleInfo("fuel_surcharge", "fuel above the contract's fuel % of the parcel's transportation on the invoice",
             (f"{_SPEC} #billing-findings", "domain.md §3 'Fuel surcharge' [R135][R137]"),
             ("fuel.effective", "fuel.percent", "fuel.services", _WINDOW), f"{_SPEC}#billing-findings"),
]
