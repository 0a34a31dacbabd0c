"""The carrier's liability for a parcel without a declared value (lost and damaged value due)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from recoup.audit.weights import factorize_pairs
from recoup.money import fmt
from recoup.sla.contracts import LB_IN_KG, Contract


def liability(c: Contract, sh: pd.DataFrame) -> tuple[np.ndarray | int, Callable[[int], str]]:
    """The carrier's liability without a declared value, per parcel: ``claims.default_liability``; with
    ``claims.liability_per_kg`` the lower of that cap and the per-kg limit × the manifest's actual weight
    in kg (half-up to the cent; lb converted at 0.45359237). No weight: the cap alone."""
    cap = c.claims.default_liability_cents
    per_kg = c.claims.liability_per_kg
    if per_kg is None:
        return cap, lambda i: ""
    codes, pairs = factorize_pairs(sh["weight"], sh["weight_unit"])
    lim = np.full(len(pairs), cap, dtype=np.int64)
    text: list[str] = [""] * len(pairs)
    for k, (w, u) in enumerate(pairs):
        try:
            kg = Decimal(str(w)) * (LB_IN_KG if str(u or c.weight_unit).lower() == "lb" else 1)
        except (InvalidOperation, ValueError):      # no weight, or not a number
            kg = None
        if kg is None or not kg.is_finite() or kg <= 0:
            text[k] = f" (no weight: the per-parcel cap {fmt(cap)}, not the {per_kg}/kg limit)"
            continue
        by_kg = int((per_kg * kg * 100).to_integral_value(rounding="ROUND_HALF_UP"))
        lim[k] = min(cap, by_kg)
        kg_txt = format(kg.normalize(), "f")
        text[k] = (f" (liability {per_kg}/kg × {kg_txt} kg = {fmt(by_kg)}" +
                   (f", capped at {fmt(cap)})" if by_kg > cap else ")"))
    per_row = lim[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    return per_row, lambda i: text[codes[i]]


