"""Reconciliation is the claims flow's, started from one place (``recoup.claims.reconcile.reconcile``):
loading invoices and auditing store and judge, never match credits; the worker's jobs and the CLI
commands that load invoices or open claims reconcile after their service returned."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from recoup.audit.service import audit
from recoup.claims.reconcile import reconcile
from recoup.store.models import CreditMatch
from recoup.worker import jobs
from recoup.worker.jobs import JobContext

from .conftest import AS_OF, CLOCK, load_small


def _matches(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(CreditMatch)).scalar() or 0)


def test_ingest_and_audit_leave_the_credits_to_the_claims_flow(engine: Engine) -> None:
    contracts = load_small(engine, credits=True)        # claims opened, then the credit notes loaded
    assert _matches(engine) == 0
    audit(engine, contracts, AS_OF, clock=CLOCK)
    assert _matches(engine) == 0
    r = reconcile(engine, clock=CLOCK)
    assert r.matched > 0 and _matches(engine) == r.matched
    assert reconcile(engine, clock=CLOCK).matched == 0   # nothing is matched twice


def test_the_audit_job_reconciles_after_the_audit(engine: Engine) -> None:
    from recoup.settings import Settings

    contracts = load_small(engine, credits=True)
    ctx = JobContext(engine, Settings(), lambda: contracts, replay_as_of=AS_OF)
    counts = jobs.audit(ctx)
    assert counts["reconciled"] > 0 and _matches(engine) == counts["reconciled"]
