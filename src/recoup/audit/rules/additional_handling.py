"""``additional_handling``: an additional handling surcharge for a parcel whose manifest weight and
dimensions are within every threshold of ``[surcharges.additional_handling]`` (UPS/FedEx US: longest
side 48 in, second-longest 30 in, actual weight 50 lb). Packaging triggers (not fully encased in
corrugated, cylinders, wheels) are not in the manifest: docs/rules/additional_handling.md.
"""

from __future__ import annotations

import datetime as dt

from recoup.audit.rules import _limits
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="additional_handling",
    description="an additional handling surcharge on a parcel the manifest measures within the carrier's thresholds",
    sources=("domain.md §3 'Additional handling (AHS)' [R130][R131][R132]",
             "UPS Rate and Service Guide (yearly), 'Additional Handling'",
             "FedEx Service Guide (yearly), 'Additional Handling Surcharge'"),
    contract_keys=("surcharges.additional_handling.longest", "surcharges.additional_handling.second_longest",
                   "surcharges.additional_handling.weight", "dim_rounding", "claims.dispute_window_days"),
    doc="docs/rules/additional_handling.md",
)


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    return _limits.judge(INFO.kind, "additional_handling", contract.additional_handling, facts)
