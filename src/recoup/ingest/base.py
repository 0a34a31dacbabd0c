"""What every file reader returns: the canonical frames' columns and ``ReadResult``.

Readers (``recoup.shipments``, ``recoup.invoices``) import this module and
:mod:`recoup.ingest.reader` (the ``Reader`` protocol); neither imports a reader. A reader has a
``name``, the ``kind`` of input it reads, ``sniff(head: bytes) -> bool`` (recognises its format from
the first 64 KiB of the file's content, never the name) and a pure ``read(path: Path) ->
ReadResult``. It never touches the database. A file that cannot be read at all raises :class:`recoup.errors.FileRefused`
with the reason; bad rows are left out of ``frame`` and listed in ``errors``.

Canonical frames (the columns readers must produce, in any order; extra columns are ignored):

SCAN_COLUMNS
    tracking_number  str
    carrier          str, contract code (``ups``, ``fedex``, ``dpd_uk`` ...)
    occurred_at      datetime64[ns, UTC]: the instant; NaT only when ``local_time`` is given instead
    local_time       datetime64[ns] (naive): wall-clock time without an offset (UPS Track); else NaT.
                     The ingest service resolves it in the destination time zone.
    utc_offset_min   Int64 (nullable): the UTC offset the source recorded with the event, in minutes
                     (canonical CSV, FedEx); <NA> when the source gives UTC instants (EasyPost) or
                     no offset (UPS)
    status           canonical status (formats.md)
    carrier_status_code, description, city, postal, country   str or None
    exception_reason one of weather, address, customer, customs, carrier, damage, or None
    line             int: 1-based line (CSV) or record number (JSON) in the file, for messages

INVOICE_COLUMNS
    invoice_number, carrier, charge_type     str
    tracking_number  str, or None for an account-level charge of the invoice (a fee, a service or
                     pickup charge: attached to no parcel, counted in the invoice's total)
    invoice_date     datetime64[ns] (naive, midnight)
    amount_cents     int64: the charge in minor units; credits negative
    account_number, currency, zone, service, reference, description, weight_unit ('lb'/'kg')
                     str or None
    billed_weight    str (a decimal as text) or None
    ship_date        datetime64[ns] (naive, midnight) or NaT
    adjustment       what an adjustment row is, beside its charge type, or None: one of ``recoup.vocabulary.ADJUSTMENTS``
                     (charge_correction, residential_adjustment, address_correction, return, void,
                     refund)
    line             int: 1-based line in the file

SHIPMENT_COLUMNS
    the merchant's manifest (formats.md "Shipments"): tracking_number, carrier, service, ship_date
    and the destination, weights and dimensions as text, declared/item values in cents, ``line``
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

SCAN_COLUMNS = [
    "tracking_number", "carrier", "occurred_at", "local_time", "utc_offset_min", "status",
    "carrier_status_code", "description", "city", "postal", "country", "exception_reason", "line",
]
SHIPMENT_COLUMNS = [
    "tracking_number", "carrier", "service", "account_number", "ship_date", "promised_delivery",
    "origin_postal", "origin_country", "dest_postal", "dest_country", "dest_residential",
    "address_validated", "weight", "weight_unit", "length", "width", "height", "dim_unit",
    "declared_value_cents", "item_value_cents", "currency", "dest_timezone", "order_id", "signature", "line",
]
INVOICE_COLUMNS = [
    "invoice_number", "invoice_date", "carrier", "account_number", "currency", "tracking_number",
    "charge_type", "amount_cents", "billed_weight", "weight_unit", "zone", "service", "ship_date",
    "reference", "description", "adjustment", "line",
]



@dataclass
class RowError:
    """One bad row: 1-based line (or record) number, the column, and why."""

    line: int | None
    column: str | None
    reason: str
    invoice_number: str | None = None  # invoices: the invoice the bad line belongs to, when known

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


def ragged_reason(fields: int, width: int, *, truncated: bool = False) -> str:
    """Why a row with ``fields`` fields under a ``width``-column header is a row error (issue 15: never
    padded nor cut); ``truncated`` when it is the last row and the file ends inside it."""
    if truncated:
        return (f"the file ends in the middle of this row ({fields} of {width} fields): it looks truncated; "
                "load the complete file")
    return (f"{'fewer' if fields < width else 'more'} fields than the header ({fields} of {width}): "
            "the row is cut short or has a stray delimiter")


@dataclass
class ReadResult:
    format: str                       # e.g. "canonical", "easypost", "fedex", "ups", "dhl", "pdf"
    frame: pd.DataFrame               # good rows, canonical columns
    read: int                         # rows/records/events read from the file
    errors: list[RowError] = field(default_factory=list)
    unknown_codes: Counter[str] = field(default_factory=Counter)  # "source:code" -> count
    notes: list[str] = field(default_factory=list)   # warnings for the run summary
    # optional side data, e.g. {"promised": DataFrame[tracking_number, carrier, promised_delivery]}
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


def empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})

