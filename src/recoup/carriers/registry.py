"""The carrier registry: each carrier code to its module's ``CARRIER``.

One module per carrier, named after its code; tests/carriers/test_registry.py checks the registry
and the modules on disk agree and names, for every registered carrier, any piece it lacks (its
contract, code tables, charge maps, PDF layouts, readers, tracking API: ``CarrierSpec.data``).

Adding a carrier: write ``carriers/<code>.py`` with ``code = "<code>"`` and ``CARRIER =
CarrierSpec(...)`` (``ups.py`` is the reference: accepted kinds with their sources, reason codes
and dispute-file columns as data, the claims address only when a source names one, and its
``CarrierData``), add it to ``REGISTRY`` below, and run ``pytest tests/carriers``. The channel that
files its claims is built by :func:`recoup.channels.registry.channel_for`.
"""

from __future__ import annotations

from recoup.carriers import dhl_express, dpd_uk, evri, fedex, royal_mail, ups, usps
from recoup.carriers.base import CarrierSpec
from recoup.errors import ConfigError

REGISTRY: dict[str, CarrierSpec] = {
    "ups": ups.CARRIER,
    "fedex": fedex.CARRIER,
    "usps": usps.CARRIER,
    "dhl_express": dhl_express.CARRIER,
    "royal_mail": royal_mail.CARRIER,
    "dpd_uk": dpd_uk.CARRIER,
    "evri": evri.CARRIER,
}


def get_carrier(code: str) -> CarrierSpec:
    try:
        return REGISTRY[code]
    except KeyError:
        raise ConfigError(f"unknown carrier {code!r} (known: {', '.join(sorted(REGISTRY))})") from None
