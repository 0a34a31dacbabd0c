"""Column.cents (the invoice readers' amounts) reads plain amounts without a Decimal (issue 17): the
cents and the refusals are what ``to_cents`` behind the amount patterns gives, for every text."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from recoup.invoices.charges.columns import _AMOUNT, _AMOUNT_THOUSANDS, Column
from recoup.money import MoneyError, to_cents

TEXTS = ["", "0", "-0", "+0.00", "-0.00", "-0.50", "0.05", "1.5", "1.234", "1,234.50", "12,34", "1,23", "007.10",
         "9999999999999.99", "-9999999999999.99", "99999999999999.99", "10000000000000.00", "100000000000000",
         "10000000000000", "١٢.٣٤", "١٢", " 5 ", ".5", "5.", "1e3", "NaN", "Infinity", "+-1", "12.30", "-12",
         "1,000,000.00", "1,0000.00", "--1", "1.2.3", "0x10", "12 .30", "²"]


def _before(texts: list[str], thousands: bool) -> tuple[list[int], list[bool]]:
    rx = _AMOUNT_THOUSANDS if thousands else _AMOUNT
    values, bad = [], []
    for u in texts:
        u = u.strip()
        v, b = 0, False
        if u:
            b = True
            if rx.fullmatch(u):
                with contextlib.suppress(MoneyError):
                    v, b = to_cents(u), False
        values.append(v)
        bad.append(b)
    return values, bad


@pytest.mark.parametrize("thousands", [False, True])
def test_cents_are_what_to_cents_gives(thousands: bool) -> None:
    values, bad = Column(np.array(TEXTS, dtype=object)).cents(thousands=thousands)
    assert (values.tolist(), bad.tolist()) == _before(TEXTS, thousands)
