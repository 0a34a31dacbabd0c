"""recoup's words are defined once (``recoup.vocabulary``): everything that lists finding kinds, claim
statuses, scan statuses or charge types agrees with it (the code tables and charge maps are checked against it when
they load: ``recoup.shipments.codes``, ``recoup.invoices.charges``)."""

from __future__ import annotations

import typing

import pytest
import typer

from recoup import vocabulary as v
from recoup.audit.rules import RULES
from recoup.carriers import base as carriers
from recoup.carriers.registry import REGISTRY
from recoup.channels.base import ClaimStatus
from recoup.claims import lifecycle, states
from recoup.commands.base import finding_kind, kind_help


def test_rules_judge_the_finding_kinds_in_their_order() -> None:
    assert [r.INFO.kind for r in RULES] == list(v.FINDING_KINDS)
    assert len(set(v.FINDING_KINDS)) == len(v.FINDING_KINDS)


def test_carriers_name_only_finding_kinds() -> None:
    kinds = set(v.FINDING_KINDS)
    assert kinds >= carriers.ALL_KINDS
    assert set(carriers.CLAIM_TYPES) <= kinds
    assert set(carriers.KIND_LABELS) <= kinds
    assert set(carriers.GENERIC_REASON_CODES) <= kinds
    for spec in REGISTRY.values():
        assert set(spec.accepted_kinds) <= kinds, spec.code
        assert set(spec.reason_codes) <= kinds, spec.code


def test_claim_statuses_are_one_list() -> None:
    assert set(typing.get_args(ClaimStatus)) == set(v.CLAIM_STATUSES) == set(states.ALL)
    assert set(lifecycle.TRANSITIONS) == set(v.CLAIM_STATUSES)
    assert {t for to in lifecycle.TRANSITIONS.values() for t in to} <= set(v.CLAIM_STATUSES)
    assert set(states.UNFILED) | set(states.FILED) | set(states.FINAL) <= set(v.CLAIM_STATUSES)



def test_every_finding_kind_is_a_valid_kind_option() -> None:
    # the kinds no carrier files a claim for (unmanifested_charge, service_mismatch) were refused by
    # --kind on a store that had none of them yet
    for kind in v.FINDING_KINDS:
        assert finding_kind(kind.upper()) == kind
        assert kind in kind_help()
    with pytest.raises(typer.BadParameter):
        finding_kind("no_such_kind")
