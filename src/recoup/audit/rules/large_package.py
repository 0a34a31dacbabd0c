"""``large_package``: a large package (oversize) surcharge for a parcel whose manifest dimensions and
weight are within every threshold of ``[surcharges.large_package]`` (UPS/FedEx: length + girth 130 in,
FedEx also length 96 in). docs/rules/large_package.md.
"""

from __future__ import annotations

import datetime as dt

from recoup.audit.rules import _limits
from recoup.audit.rules.base import Facts, Judged, RuleInfo
from recoup.sla.contracts import Contract

INFO = RuleInfo(
    kind="large_package",
    description="a large package surcharge on a parcel the manifest measures within the carrier's thresholds",
    sources=("domain.md §3 'Large package / oversize' [R133][R134]",
             "fedex.com 'What is an oversize charge?' [R133]",
             "UPS Rate and Service Guide (yearly), 'Large Package Surcharge'; Evergreen glossary [R134]"),
    contract_keys=("surcharges.large_package.longest", "surcharges.large_package.length_plus_girth",
                   "surcharges.large_package.weight", "dim_rounding", "claims.dispute_window_days"),
    doc="docs/rules/large_package.md",
)


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    return _limits.judge(INFO.kind, "large_package", contract.large_package, facts)
