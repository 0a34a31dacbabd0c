"""The invoice's stated total before VAT (see the package docstring, "The stated total"; pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from recoup.invoices.pdf.layouts import data, norm
from recoup.invoices.pdf.values import money_in_text
from recoup.money import fmt

TWO_DECIMALS = re.compile(r"\d[.,]\d{2}(?!\d)")


@dataclass
class Stated:
    value: Decimal
    how: str


def stated_total(pages: list[dict[str, Any]], *, exclude: Iterable[tuple[int, int]] = (),
                  not_totals: Sequence[str] = ()) -> Stated | None:
    """The invoice's total before VAT, as the package docstring says. ``exclude``: (page, line) indexes
    that are not the invoice's (a shipment block's total); ``not_totals``: normalised line starts of the
    layout's section subtotals."""
    d = data()
    skip = set(exclude)
    found: dict[str, list[tuple[int, int, Decimal, str]]] = {"net": [], "vat": [], "gross": [], "due": []}
    for pi, page in enumerate(pages):
        for li, line in enumerate(page["lines"]):
            if not TWO_DECIMALS.search(line) or (pi, li) in skip:
                continue
            low = line.lower()
            if any(r in low for r in d.running):
                continue
            if not_totals and norm(line).startswith(tuple(not_totals)):
                continue
            phrases = line.split("  ")
            for k, ph in enumerate(phrases):
                if not ph[:1].isalpha():
                    continue
                hit = d.totals_rx.match(norm(ph))
                if hit is None:
                    continue
                rest = "  ".join(phrases[k:])
                found_money = money_in_text(rest)
                if not found_money:
                    break
                if set(norm(rest[:found_money[0][0]]).split()) & d.not_money:
                    break
                amounts = [a for _, a in found_money]
                kind = d.totals[hit.group(0).strip()]
                if kind in ("gross", "due") and len(amounts) >= 3 and amounts[-3] + amounts[-2] == amounts[-1]:
                    found["net"].append((pi, li, amounts[-3], f"{ph.strip()} (net of VAT {fmt(amounts[-2])})"))
                else:
                    found[kind].append((pi, li, amounts[-1], ph.strip()))
                break
    if found["net"]:
        _, _, v, label = found["net"][-1]
        return Stated(v, f'"{label}" {fmt(v)}')
    totals = found["gross"] or found["due"]
    if not totals:
        return None
    if not found["vat"]:
        _, _, v, label = totals[-1]
        return Stated(v, f'"{label}" {fmt(v)}, no VAT shown')
    every = sorted(found["gross"] + found["due"])
    last_page = totals[-1][0]
    vat = sum((v for p, _, v, _ in found["vat"] if p == last_page), Decimal(0))
    for i, (_, _, t, label) in enumerate(every):
        if any(u == t + vat for _, _, u, _ in every[i + 1:]):
            return Stated(t, f'"{label}" {fmt(t)}, before VAT {fmt(vat)}')
    _, _, g, label = totals[-1]
    return Stated(g - vat, f'"{label}" {fmt(g)} less VAT {fmt(vat)}')
