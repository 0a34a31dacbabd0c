"""What crosses rules, through the public ``run_audit`` on hand-built frames and contracts written as
TOML (see conftest.Kit): the runner's step that takes the lines a claimable service finding refunds
out of the billing findings, the contract of a shipment, determinism. Each kind's own edge cases are
in ``test_rule_<kind>.py``; decisions where audits.md is silent are in docs/audit-decisions.md, the
tests named ``test_decision_*`` pin them."""

from __future__ import annotations

import datetime as dt

from recoup.audit.rules import REFUNDED, run_audit

D = dt.date.fromisoformat


def kinds(kit, as_of, tn=None):  # type: ignore[no-untyped-def]
    return sorted(f["kind"] for f in kit.findings(as_of, tn=tn))


# ----------------------------------------------------------------------------- parcels


def _in_transit(kit, tn="T1", last="2026-10-06T10:00:00-04:00", **ship):  # type: ignore[no-untyped-def]
    kit.ship(tn, **ship)
    kit.scan(tn, "2026-10-05T09:00:00-04:00", "label_created")
    kit.scan(tn, "2026-10-05T17:00:00-04:00", "picked_up")
    kit.scan(tn, last, "in_transit")


# ----------------------------------------------------------------------------- duplicates and billed charges


def test_decision_billing_on_a_shipment_of_another_carrier_contract_is_not_judged(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", carrier="fedex")
    kit.line("T1", "I1", "2026-10-10", "residential", "5.00", carrier="fedex")
    r = kit.run("2026-10-20")
    assert r.findings.empty
    assert r.audited == 0
    assert any("fedex: no contract loaded" in w for w in r.warnings)


# ----------------------------------------------------------------------------- suppression


def _residential_and_rate(kit, *, tn="T1"):  # type: ignore[no-untyped-def]
    kit.line(tn, "I1", "2026-10-10", "transportation", "30.00", billed_weight="5", zone="4")   # card: 25.00
    kit.line(tn, "I1", "2026-10-10", "residential", "5.00")


def test_claimable_lost_suppresses_every_billing_kind_but_duplicates(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit, dest_residential=False)
    _residential_and_rate(kit)
    kit.line("T1", "I2", "2026-10-17", "residential", "5.00")
    assert kinds(kit, "2026-10-20") == ["duplicate_charge", "lost"]


def test_the_rules_return_their_verdicts_and_the_runner_names_the_refunded_lines(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit, dest_residential=False)
    _residential_and_rate(kit)
    frames = kit.frames()
    ids = frames.lines["id"].tolist()
    r = run_audit(frames, kit.contract_set(), D("2026-10-20"), trace=True)
    parcel = r.parcel_verdicts[("ups", "T1")]
    assert set(parcel) == {"damaged", "void_label", "late_delivery"}        # lost was found: no verdict owed
    assert parcel["void_label"] == "no: it has carrier scans"
    for i in ids:   # the claimable lost refunds every billed line: the step says so, no billing rule judged it
        assert r.line_verdicts[i][REFUNDED] == "refunded by the claimable lost: billing rules not reported"
        assert not {"residential_surcharge", "dim_weight", "rate_overcharge"} & set(r.line_verdicts[i])
    assert run_audit(frames, kit.contract_set(), D("2026-10-20")).line_verdicts == {}       # only when asked


def test_expired_lost_does_not_suppress(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"loss_window_days": 5})
    _in_transit(kit, dest_residential=False)
    _residential_and_rate(kit)
    got = kit.findings("2026-10-20")
    assert sorted(f["kind"] for f in got) == ["lost", "rate_overcharge", "residential_surcharge"]
    assert next(f for f in got if f["kind"] == "lost")["claimable"] is False


def test_lost_without_refund_of_shipping_does_not_suppress(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(claims={"value_claims_refund_shipping": False})
    _in_transit(kit, dest_residential=False)
    _residential_and_rate(kit)
    assert kinds(kit, "2026-10-20") == ["lost", "rate_overcharge", "residential_surcharge"]



def _late_one(kit, **contract):  # type: ignore[no-untyped-def]
    kit.contract(**contract)
    kit.ship("T1")
    kit.scan("T1", "2026-10-05T09:00:00-04:00", "label_created")
    kit.scan("T1", "2026-10-05T17:00:00-04:00", "picked_up")


def test_claimable_late_suppresses_only_the_refunded_types(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", dest_residential=False)
    kit.delivered("T1", "2026-10-06T12:00:00-04:00")
    _residential_and_rate(kit)
    got = kit.findings("2026-10-20")
    assert sorted(f["kind"] for f in got) == ["late_delivery", "residential_surcharge"]


def test_excluded_late_does_not_suppress(kit) -> None:  # type: ignore[no-untyped-def]
    _late_one(kit)
    kit.ship("T1", dest_residential=False)
    kit.scan("T1", "2026-10-06T08:00:00-04:00", "exception", "customs")
    kit.scan("T1", "2026-10-06T12:00:00-04:00", "delivered")
    _residential_and_rate(kit)
    assert kinds(kit, "2026-10-20") == ["late_delivery", "rate_overcharge", "residential_surcharge"]


def test_claimable_void_suppresses_every_billing_kind(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    kit.ship("T1", dest_residential=False)
    _residential_and_rate(kit)
    assert kinds(kit, "2026-10-20") == ["void_label"]


def test_fuel_base_keeps_a_suppressed_transportation_line(kit) -> None:  # type: ignore[no-untyped-def]
    # a claimable late refunds transportation; fuel is still judged against it
    kit.contract()
    kit.ship("T1")
    kit.delivered("T1", "2026-10-06T12:00:00-04:00")
    kit.line("T1", "I1", "2026-10-10", "transportation", "20.00")
    kit.line("T1", "I1", "2026-10-10", "fuel", "3.10")   # 15% of 20.00 = 3.00
    got = {f["kind"]: f for f in kit.findings("2026-10-20")}
    assert got["fuel_surcharge"]["amount_cents"] == 10


# ----------------------------------------------------------------------------- contracts and accounts


def test_contract_chosen_by_account(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract(name="ups_open")
    kit.contract(name="ups_acct", account_numbers=["A1"], claims={"late_window_days": 3})
    kit.ship("T1", account_number="A1")
    kit.delivered("T1", "2026-10-06T12:00:00-04:00")
    kit.ship("T2", account_number="B2")
    kit.delivered("T2", "2026-10-06T12:00:00-04:00")
    got = {f["tracking_number"]: f["deadline"] for f in kit.findings("2026-10-08")}
    assert got == {"T1": D("2026-10-09"), "T2": D("2026-10-21")}


def test_same_frames_give_the_same_findings(kit) -> None:  # type: ignore[no-untyped-def]
    kit.contract()
    _in_transit(kit, "T1", dest_residential=False)
    _residential_and_rate(kit, tn="T1")
    kit.ship("T2")
    kit.delivered("T2", "2026-10-06T12:00:00-04:00")
    frames = kit.frames()
    cs = kit.contract_set()
    a = run_audit(frames, cs, D("2026-10-20")).findings
    b = run_audit(frames, cs, D("2026-10-20")).findings
    assert a.equals(b)


# ----------------------------------------------------------------------------- found by these tests


def test_reasons_do_not_change_with_the_audit_date(kit) -> None:  # type: ignore[no-untyped-def]
    # an incremental audit re-judges only what changed: a reason must not age by itself
    kit.contract()
    _in_transit(kit, "T1")
    kit.ship("T2")
    kit.scan("T2", "2026-10-05T09:00:00-04:00", "label_created")
    kit.line("T2", "I1", "2026-10-12", "transportation", "25.00")
    a = {f["key"]: f["reason"] for f in kit.findings("2026-10-20")}
    b = {f["key"]: f["reason"] for f in kit.findings("2026-10-25")}
    assert a == b and len(a) == 2
