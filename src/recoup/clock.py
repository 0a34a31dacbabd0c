"""recoup's one clock: every instant recoup writes or compares comes from a :class:`Clock`.

Only the edges build one -- the CLI (``--as-of`` or not) and the worker's job wiring
(:class:`recoup.worker.jobs.JobContext`) -- and pass it down explicitly: services take ``clock``,
helpers take ``now``; rules take ``as_of``. Nothing below the edges reads the wall clock.

- :class:`SystemClock`: the wall clock, in UTC. What recoup uses without ``--as-of``.
- :class:`FixedClock`: one instant, always the same. ``--as-of DAY`` is
  :func:`replay_clock` (``DAY`` at :data:`REPLAY_TIME`, 12:00 UTC), so the same inputs and the same
  ``--as-of`` give the same rows, timestamps included. Every instant written during one replayed day
  is that instant; the order of events within the day is the order of their row ids.
- :class:`ReplayClock`: a clock a driver moves day by day (the demo's replay; a backtest), so one
  object can be handed to long-lived parts (channels) while the day changes.

Why 12:00 UTC: it is the same calendar day in every time zone from UTC-12 to UTC+11, so a claim
filed on a replayed day carries that day's date whether it is read in UTC, in London or in Chicago,
and a filing on the window's last day is never pushed to the next one by a zone.

Wall-clock reads that are kept, by nature (each named where it is): :func:`wall_now` for worker
liveness (heartbeats, the SQLite worker lock file), the e-mail ``Date`` header of what is really
sent now, and the sandbox carrier's own clock; ``time.monotonic``/``time.sleep`` for timeouts,
budgets, rate limits and retry waits, which measure durations, not dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

REPLAY_TIME = dt.time(12, 0)      # --as-of DAY reads DAY at 12:00 UTC


@runtime_checkable
class Clock(Protocol):
    """What recoup asks the time of."""

    def now(self) -> dt.datetime:
        """An aware instant, in UTC."""
        ...

    def today(self) -> dt.date:
        """The day of :meth:`now`, in UTC (the audit's default ``as_of``)."""
        ...


def wall_now() -> dt.datetime:
    """The wall clock, for what is wall-clock by nature (heartbeats, lock notes, a mail's Date).
    Never for a row's business instant: those come from a :class:`Clock`."""
    return dt.datetime.now(dt.UTC)


def _aware_utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"a clock gives time-zone aware instants, not {t!r}")
    return t.astimezone(dt.UTC)


@dataclass(frozen=True)
class SystemClock:
    """The wall clock (UTC)."""

    def now(self) -> dt.datetime:
        return wall_now()

    def today(self) -> dt.date:
        return self.now().date()


@dataclass(frozen=True)
class FixedClock:
    """Always the same instant."""

    instant: dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "instant", _aware_utc(self.instant))

    def now(self) -> dt.datetime:
        return self.instant

    def today(self) -> dt.date:
        return self.instant.date()


class ReplayClock:
    """A clock a driver sets day by day (``set_day``); reads :data:`REPLAY_TIME` of the current day."""

    def __init__(self, day: dt.date) -> None:
        self.day = day

    def set_day(self, day: dt.date) -> None:
        self.day = day

    def now(self) -> dt.datetime:
        return replay_instant(self.day)

    def today(self) -> dt.date:
        return self.day

    def __repr__(self) -> str:
        return f"ReplayClock({self.day.isoformat()})"


@dataclass(frozen=True)
class CallableClock:
    """A clock from a function returning aware datetimes (tests, simulated time)."""

    fn: Callable[[], dt.datetime]

    def now(self) -> dt.datetime:
        return _aware_utc(self.fn())

    def today(self) -> dt.date:
        return self.now().date()


SYSTEM = SystemClock()


def replay_instant(day: dt.date) -> dt.datetime:
    """The instant ``--as-of DAY`` reads: DAY at 12:00 UTC."""
    return dt.datetime.combine(day, REPLAY_TIME, dt.UTC)


def replay_clock(day: dt.date) -> FixedClock:
    return FixedClock(replay_instant(day))


def clock_for(as_of: dt.date | None) -> Clock:
    """The clock of a command: ``--as-of DAY`` replays DAY; without it, the wall clock."""
    return SYSTEM if as_of is None else replay_clock(as_of)


def as_clock(c: Clock | Callable[[], dt.datetime]) -> Clock:
    """A :class:`Clock` as is; a function returning instants wrapped in :class:`CallableClock`."""
    if isinstance(c, Clock):
        return c
    return CallableClock(c)
