"""The reader registry: every reader module registered once, in the detection order, as a Reader."""

from __future__ import annotations

import pkgutil

import recoup.invoices as invoices_pkg
import recoup.shipments as shipments_pkg
from recoup.ingest.formats import FORMATS, READERS, names
from recoup.ingest.reader import Reader

# Modules of the reader packages that hold no reader (shared parsing, code tables, senders).
NOT_READERS = {"shipments": {"codes", "pull", "webhook"}, "invoices": {"charges"}}


def test_every_reader_is_a_reader_object() -> None:
    for r in READERS:
        assert isinstance(r, Reader)
        assert r.kind in FORMATS and r in FORMATS[r.kind]


def test_detection_order_is_unchanged() -> None:
    assert {kind: names(kind) for kind in FORMATS} == {
        "shipments": ["auto", "canonical"],
        "scans": ["auto", "canonical", "easypost", "fedex", "ups", "usps", "carrier_error"],
        "invoices": ["auto", "pdf", "canonical", "dhl", "fedex", "fedex_intl", "ups"],
    }


def test_every_reader_module_is_registered() -> None:
    registered = {r.read.__module__ for r in READERS}
    for pkg in (shipments_pkg, invoices_pkg):
        short = pkg.__name__.rsplit(".", 1)[1]
        for m in pkgutil.iter_modules(pkg.__path__):
            if m.name not in NOT_READERS[short]:
                assert f"{pkg.__name__}.{m.name}" in registered, f"{pkg.__name__}.{m.name} is not in READERS"
