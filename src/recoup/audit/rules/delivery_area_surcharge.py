"""``delivery_area_surcharge``: a delivery area surcharge to a postal code not in the contract's DAS
list (``surcharges.das_postal_codes``; without a list: not judged). US ZIP+4 compare on their first five
digits, UK postcodes by outward code or area. shared/spec/audits.md #billing-findings,
docs/rules/delivery_area_surcharge.md."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import numpy as np

from recoup.audit.rules._service import _SPEC
from recoup.audit.rules._vector import _str_col
from recoup.audit.rules.base import Facts, Judged, RuleInfo, candidates
from recoup.audit.weights import factorize_pairs
from recoup.sla.contracts import Contract, normalise_postal

INFO = RuleInfo("delivery_area_surcharge", "a delivery area surcharge to a postal code not in the contract's DAS list",
                (f"{_SPEC} #billing-findings", "domain.md §3 [R126][R128]"),
                ("surcharges.das_postal_codes", "claims.dispute_window_days"), "docs/rules/delivery_area_surcharge.md")


def rule(contract: Contract, facts: Facts, as_of: dt.date) -> Judged:
    ls = facts.lines
    out = Judged(INFO.kind, window_note=False)   # audits.md: the reason does not say the window closed
    cand = candidates(ls, ls.type == "delivery_area")
    if not len(cand):
        return out
    if contract.das_postal_codes is None:
        if facts.trace:
            out.verdicts = dict.fromkeys(ls.id[cand].tolist(), "not judged: the contract has no DAS list")
        return out
    sid = ls.sid[cand]
    postal = _str_col(facts.ships["dest_postal"])[sid]
    m = ~_das_flags(postal, _str_col(facts.ships["dest_country"])[sid], contract.das_postal_codes)
    out.rows = cand[m]
    out.amounts = ls.amount[out.rows]
    out.reasons = [f"delivery area surcharge; {p} is not in the contract's DAS list" for p in postal[m].tolist()]
    if facts.trace:
        out.verdicts = {int(i): (f"yes: {p} is not in the contract's DAS list" if h else
                                 "not judged: no destination postal code" if not p else
                                 f"no: {p} is in the contract's DAS list")
                        for i, p, h in zip(ls.id[cand].tolist(), postal.tolist(), m.tolist(), strict=True)}
    return out


def _das_flags(postal: np.ndarray, country: np.ndarray, das: frozenset[str]) -> np.ndarray:
    codes, uniq = factorize_pairs(postal, country)
    flags = np.array([_in_das(p, ctry, das) for p, ctry in uniq], dtype=bool)
    return flags[codes] if len(codes) else np.zeros(0, dtype=bool)




_ZIP = re.compile(r"\d{5}(-?\d{4})?")


@lru_cache(maxsize=32)
def _das_us(das: frozenset[str]) -> frozenset[str]:
    """The list's entries as US codes compare: ZIP+4 entries on their first five digits."""
    return frozenset(e[:5] if _ZIP.fullmatch(e) else e for e in das)


def _in_das(postal: object, country: object, das: frozenset[str]) -> bool:
    if not isinstance(postal, str) or not postal:
        return True  # nothing to judge against
    ctry = str(country or "").upper()
    p = normalise_postal(postal, ctry)
    if p in das:
        return True
    if ctry == "US":
        return p in _das_us(das)
    if ctry in ("GB", "UK") and len(p) > 3:
        outward = p[:-3]
        if outward in das:
            return True
        area = ""
        for ch in outward:
            if ch.isalpha():
                area += ch
            else:
                break
        if area and area in das:
            return True
    return False


