"""Claim submission, status sync, expiry and what a person decides (spec/claims.md).

A claim is filed at most once: ``submitting`` is committed with the claim's idempotency key
*before* the carrier is called; a claim found in ``submitting`` later (a crash) is resolved by
asking the carrier (API channel) or handed to a person (e-mail and file channels, which cannot be
asked), never filed again blindly. Two workers cannot both take a claim: the move to
``submitting`` is a guarded update on the claim's current status, and a claim is held by one
submitter at a time (:mod:`recoup.claims.leases`). What is filed is built by :mod:`recoup.claims.packet`;
what a person decides (approve, cancel, retry, record an answer) is :mod:`recoup.claims.decide`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.engine import Engine

from recoup.channels.base import Channel, ChannelConfig, SubmitResult
from recoup.claims.leases import Leases
from recoup.claims.lifecycle import UNFILED, TransitionError, move
from recoup.claims.packet import build_packet, packet_dict
from recoup.clock import Clock
from recoup.errors import ConfigError, RecoupError
from recoup.money import from_cents, to_cents
from recoup.settings import Settings
from recoup.sla.contracts import ContractSet
from recoup.store.models import CarrierPause, Claim, table_of

log = logging.getLogger(__name__)
ChannelFactory = Callable[[str, ChannelConfig], Channel]


@dataclass
class SubmitSummary:
    considered: int = 0
    submitted: int = 0
    prepared: int = 0
    retry: int = 0
    needs_attention: int = 0
    paused: list[str] = field(default_factory=list)
    recovered: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    packets: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"considered": self.considered, "submitted": self.submitted, "prepared": self.prepared,
                "retry": self.retry, "needs_attention": self.needs_attention, "paused": self.paused,
                "recovered": self.recovered, "skipped": self.skipped, "problems": self.problems}


def channel_config(settings: Settings, contracts: ContractSet | None, carrier: str) -> ChannelConfig:
    """Settings (environment wins) over the contract's ``claims.channel`` over the carrier default."""
    cs = settings.carrier(carrier)
    channel = cs.channel
    if channel is None and contracts is not None:
        ks = contracts.for_carrier(carrier)
        if ks:
            channel = ks[0].claims.channel
    return ChannelConfig.from_settings(cs, channel=channel, from_email=cs.from_email or settings.contact_email,
                                       outbox=cs.outbox or settings.outbox)


def default_factory(carrier: str, config: ChannelConfig) -> Channel:
    from recoup.channels.registry import channel_for

    return channel_for(carrier, config)


def _claims_table() -> Any:
    return table_of(Claim)


def paused_carriers(conn: Connection) -> dict[str, str]:
    t = table_of(CarrierPause)
    return {r.carrier: r.reason for r in conn.execute(select(t))}


def submit(engine: Engine, settings: Settings, contracts: ContractSet | None, as_of: dt.date, *,
           clock: Clock, carrier: str | None = None, dry_run: bool = False, actor: str = "worker",
           factory: ChannelFactory = default_factory, limit: int | None = None,
           stop: Callable[[], bool] | None = None) -> SubmitSummary:
    """File ready claims whose window is still open on ``as_of``; every transition (``filed_at``
    included) is stamped by ``clock`` when it happens. ``stop`` (the worker's stop flag) is checked
    between claims: the claim in hand is finished, the rest wait for the next run."""
    s = SubmitSummary()
    ct = _claims_table()
    waiting = ct.c.status.in_(("ready", "submitting"))
    with engine.connect() as conn:
        paused = paused_carriers(conn)
        q = select(ct.c.carrier).where(waiting).group_by(ct.c.carrier)
        if carrier:
            q = q.where(ct.c.carrier == carrier)
        carriers = sorted(r.carrier for r in conn.execute(q))

    def waiting_claims(code: str) -> list[Any]:
        """A carrier's claims to file, read only once its channel is known to open (a carrier whose
        channel cannot file keeps its claims ready: reading them all on every tick cost seconds)."""
        with engine.connect() as conn:
            return list(conn.execute(select(ct).where(waiting).where(ct.c.carrier == code)
                                     .order_by(ct.c.deadline, ct.c.id)))

    stack = contextlib.ExitStack()   # channels that hold a connection keep it for the run
    leases = None if dry_run else Leases(engine)
    if leases is not None:
        stack.callback(leases.close)
    held: set[int] = set()

    def hold(c: Any) -> Any:
        """The claim as it is now, held for this run; None when another live submitter has it."""
        if leases is None:
            return c
        if not leases.hold(c.id):
            return None
        held.add(c.id)
        return _current(engine, c.id)

    try:
        for code in carriers:
            if stop is not None and stop():
                break
            if code in paused:
                s.paused.append(code)
                s.problems.append(f"{code}: channel paused ({paused[code]}); `recoup claims resume {code}` after fixing it")
                continue
            try:
                cfg = dataclasses.replace(channel_config(settings, contracts, code), clock=clock)
                channel = None if dry_run else _opened(stack, factory(code, cfg))
            except (ConfigError, RecoupError) as e:
                s.problems.append(f"{code}: {e}")
                continue
            todo = []
            for c in waiting_claims(code):
                c = hold(c)
                if c is None or c.status not in ("ready", "submitting"):
                    continue  # another submitter is on it, or it moved on since we looked
                if c.status == "submitting" and (
                        dry_run or channel is None or not _recover(engine, channel, c, settings, actor, s, clock)):
                    continue  # resolved (filed, or handed to a person), or not askable now
                # a claim recovered back to ready (the carrier never got it) is filed in this run, below
                why = _not_now(c, as_of)
                if why:
                    s.skipped[why] = s.skipped.get(why, 0) + 1
                    continue
                todo.append(c)
            if limit is not None:
                todo = todo[:limit]
            s.considered += len(todo)
            if dry_run:
                with engine.connect() as conn:
                    for c in todo:
                        p = build_packet(conn, c, settings.contact_email)
                        s.packets.append(packet_dict(p, cfg.channel or "default"))
                continue
            assert channel is not None
            batch = channel.name in ("file",)
            if batch:
                taken = [c for c in todo if _take(engine, c, actor, channel.name, clock)]
                with engine.connect() as conn:
                    packets = [build_packet(conn, c, settings.contact_email) for c in taken]
                results = channel.submit(packets) if packets else []
                for c, res in zip(taken, results, strict=True):
                    _apply(engine, c, res, actor, s, clock)
                continue
            for c in todo:
                if stop is not None and stop():
                    break
                if not _take(engine, c, actor, channel.name, clock):
                    continue
                with engine.connect() as conn:
                    packet = build_packet(conn, c, settings.contact_email)
                (res,) = channel.submit([packet])
                _apply(engine, c, res, actor, s, clock)
                if res.outcome == "paused":
                    _pause(engine, code, res.message, clock.now())
                    s.paused.append(code)
                    break
    finally:
        stack.close()
    return s


def _current(engine: Engine, claim_id: int) -> Any:
    ct = _claims_table()
    with engine.connect() as conn:
        return conn.execute(select(ct).where(ct.c.id == claim_id)).first()


def _opened(stack: contextlib.ExitStack, channel: Channel) -> Channel:
    """A channel that is a context manager (the API channel: one HTTP client for the whole run
    instead of one per request) is entered, and closed when the run ends."""
    if hasattr(channel, "__enter__") and hasattr(channel, "__exit__"):
        return stack.enter_context(channel)  # type: ignore[no-any-return,arg-type]
    return channel


def _not_now(c: Any, as_of: dt.date) -> str | None:
    if c.claimed_cents <= 0:
        return "amount 0.00 (waits for its invoice)"
    if c.needs_approval and not c.approved_by:
        return "waits for approval"
    if c.deadline is not None and c.deadline < as_of:
        return "past its deadline"
    return None


def _take(engine: Engine, c: Any, actor: str, channel: str, clock: Clock) -> bool:
    try:
        with engine.begin() as conn:
            move(conn, c.id, "ready", "submitting", actor, f"filing through {channel} with key {c.idempotency_key}",
                 now=clock.now(), channel=channel)
        return True
    except TransitionError:
        return False  # another worker took it


def _apply(engine: Engine, c: Any, res: SubmitResult, actor: str, s: SubmitSummary, clock: Clock) -> None:
    now = clock.now()
    with engine.begin() as conn:
        if res.outcome in ("submitted", "prepared"):
            to = res.status if res.status and res.status not in ("ready", "submitting") else res.outcome
            vals: dict[str, Any] = {"filed_at": now, "message": res.message or None}
            if res.carrier_reference:
                vals["carrier_reference"] = res.carrier_reference
            if res.approved_amount is not None:
                vals["approved_cents"] = to_cents(res.approved_amount)
            move(conn, c.id, "submitting", to, "carrier" if res.outcome == "submitted" else actor,
                 res.message or f"{res.outcome} {res.carrier_reference or ''}".strip(), now=now, **vals)
            if res.outcome == "submitted":
                s.submitted += 1
            else:
                s.prepared += 1
        elif res.outcome == "needs_attention":
            move(conn, c.id, "submitting", "needs_attention", "carrier", res.message, now=now, message=res.message)
            s.needs_attention += 1
            s.problems.append(f"claim {c.id} ({c.carrier} {c.tracking_number}): {res.message}")
        else:  # retry, paused: back to ready for a later run
            move(conn, c.id, "submitting", "ready", actor, f"{res.outcome}: {res.message}", now=now,
                 message=res.message)
            s.retry += 1


def _recover(engine: Engine, channel: Channel, c: Any, settings: Settings, actor: str, s: SubmitSummary,
             clock: Clock) -> bool:
    """A claim left in ``submitting`` by a crash: ask the carrier, never file blindly.
    True when it went back to ``ready`` (the carrier never got it)."""
    with engine.connect() as conn:
        packet = build_packet(conn, c, settings.contact_email)
    try:
        found = channel.find(packet)
    except RecoupError as e:
        s.problems.append(f"claim {c.id}: could not ask {c.carrier} about it yet: {e}")
        return False
    now = clock.now()
    with engine.begin() as conn:
        if found is not None and found.outcome == "submitted":
            vals: dict[str, Any] = {"filed_at": now}
            if found.carrier_reference:
                vals["carrier_reference"] = found.carrier_reference
            to = found.status if found.status and found.status not in ("ready", "submitting") else "submitted"
            move(conn, c.id, "submitting", to, "carrier", "recovered after a crash: the carrier has it", now=now, **vals)
            s.recovered += 1
            return False
        if channel.name == "api":
            move(conn, c.id, "submitting", "ready", actor, "recovered after a crash: the carrier never got it",
                 now=now)
            s.recovered += 1
            return True
        else:
            msg = (f"recoup stopped while filing this claim by {channel.name}; check the outbox/mail before "
                   f"`recoup claims retry {c.id}`")
            move(conn, c.id, "submitting", "needs_attention", actor, msg, now=now, message=msg)
            s.needs_attention += 1
            return False


def _pause(engine: Engine, carrier: str, reason: str, now: dt.datetime) -> None:
    t = table_of(CarrierPause)
    with engine.begin() as conn:
        conn.execute(delete(t).where(t.c.carrier == carrier))
        conn.execute(insert(t).values(carrier=carrier, reason=reason or "authentication refused", at=now))


def resume(engine: Engine, carrier: str) -> bool:
    t = table_of(CarrierPause)
    with engine.begin() as conn:
        return bool(conn.execute(delete(t).where(t.c.carrier == carrier)).rowcount)


@dataclass
class SyncSummary:
    polled: int = 0
    changed: int = 0
    problems: list[str] = field(default_factory=list)
    reconciled: int = 0


def sync(engine: Engine, settings: Settings, contracts: ContractSet | None, *, clock: Clock, actor: str = "worker",
         factory: ChannelFactory = default_factory, stop: Callable[[], bool] | None = None) -> SyncSummary:
    """Poll the carriers for the status of filed claims, then reconcile credits; stamped by ``clock``."""
    from recoup.claims.reconcile import reconcile

    s = SyncSummary()
    ct = _claims_table()
    with engine.connect() as conn:
        rows = list(conn.execute(select(ct).where(ct.c.status.in_(("submitted", "in_review", "approved")))
                                 .where(ct.c.carrier_reference.is_not(None)).order_by(ct.c.id)))
        paused = paused_carriers(conn)
    channels: dict[str, Channel | None] = {}
    stack = contextlib.ExitStack()
    try:
        for c in rows:
            if stop is not None and stop():
                break
            if c.carrier in paused:
                continue
            if c.carrier not in channels:
                try:
                    cfg = dataclasses.replace(channel_config(settings, contracts, c.carrier), clock=clock)
                    channels[c.carrier] = _opened(stack, factory(c.carrier, cfg))
                except RecoupError as e:
                    s.problems.append(f"{c.carrier}: {e}")
                    channels[c.carrier] = None
            ch = channels[c.carrier]
            if ch is None:
                continue
            try:
                st = ch.status(c.carrier_reference)
            except RecoupError as e:
                s.problems.append(f"claim {c.id}: {e}")
                continue
            s.polled += 1
            if st is None or (st.status == c.status and (
                    st.approved_amount is None or to_cents(st.approved_amount) == c.approved_cents)):
                continue  # nothing new: no history entry
            vals: dict[str, Any] = {}
            if st.approved_amount is not None:
                vals["approved_cents"] = to_cents(st.approved_amount)
            with engine.begin() as conn:
                try:
                    move(conn, c.id, c.status, st.status, "carrier", st.message or f"carrier status {st.status}",
                         now=clock.now(), **vals)
                    s.changed += 1
                except TransitionError as e:
                    s.problems.append(str(e))
    finally:
        stack.close()
    s.reconciled = reconcile(engine, clock=clock).matched
    return s


def expire(engine: Engine, as_of: dt.date, actor: str = "worker", *, clock: Clock) -> int:
    """Unfiled claims whose deadline is before ``as_of`` become ``expired`` (stamped ``clock.now()``)."""
    ct = _claims_table()
    n = 0
    now = clock.now()
    with engine.begin() as conn:
        for c in conn.execute(select(ct).where(ct.c.status.in_(UNFILED)).where(ct.c.deadline < as_of)):
            move(conn, c.id, c.status, "expired", actor, f"deadline {c.deadline} passed before it was filed", now=now)
            n += 1
    return n


def near_deadline(engine: Engine, as_of: dt.date, days: int) -> list[dict[str, Any]]:
    ct = _claims_table()
    with engine.connect() as conn:
        rows = conn.execute(select(ct).where(ct.c.status.in_(UNFILED)).where(ct.c.deadline >= as_of)
                            .where(ct.c.deadline <= as_of + dt.timedelta(days=days)).order_by(ct.c.deadline))
        return [{"id": r.id, "carrier": r.carrier, "tracking_number": r.tracking_number, "kind": r.kind,
                 "status": r.status, "deadline": r.deadline.isoformat(), "amount": str(from_cents(r.claimed_cents)),
                 "currency": r.currency} for r in rows]
