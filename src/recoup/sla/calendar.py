"""Business-day calendars of carrier contracts, vectorised with numpy's busday functions.

A business day is a weekday in the contract's ``calendar.business_days`` that is not a holiday:
the carrier's own ``holidays`` list when it is not empty, else the ``holidays`` package's
calendar for ``country``/``subdivision``; ``extra_holidays`` are added in either case.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays as hol
import numpy as np

from recoup.sla.contracts import Calendar

YEARS = range(2015, 2036)


@lru_cache(maxsize=64)
def _holidays(cal: Calendar) -> tuple[dt.date, ...]:
    if cal.holidays:
        days = set(cal.holidays)
    elif cal.country:
        days = set(hol.country_holidays(cal.country, subdiv=cal.subdivision or None, years=YEARS).keys())
    else:
        days = set()
    days |= set(cal.extra_holidays)
    return tuple(sorted(days))


@lru_cache(maxsize=64)
def busdaycal(cal: Calendar) -> np.busdaycalendar:
    mask = [1 if i in cal.business_days else 0 for i in range(7)]
    return np.busdaycalendar(weekmask=mask, holidays=np.array(_holidays(cal), dtype="datetime64[D]"))


def is_business_day(cal: Calendar, day: dt.date) -> bool:
    return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=busdaycal(cal)))


def tender_day(cal: Calendar, ship: np.ndarray) -> np.ndarray:
    """The first business day on or after each ship date (datetime64[D] array)."""
    return np.busday_offset(ship, 0, roll="forward", busdaycal=busdaycal(cal))


def promised_date(cal: Calendar, ship: np.ndarray, transit_days: np.ndarray) -> np.ndarray:
    """Ship date + transit business days, counted after the tender day (audits.md)."""
    t = tender_day(cal, ship)
    return np.busday_offset(t, transit_days, roll="forward", busdaycal=busdaycal(cal))
