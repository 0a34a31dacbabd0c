"""Canonical invoice CSV reader (formats.md, Invoices)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recoup.ingest.base import INVOICE_COLUMNS, ReadResult
from recoup.ingest.csvutil import Checker, column_notes, header_of, load_csv, none_if_empty
from recoup.ingest.reader import Format
from recoup.vocabulary import ADJUSTMENTS, CHARGE_TYPES

REQUIRED = ["invoice_number", "invoice_date", "carrier", "tracking_number", "charge_type", "amount"]
OPTIONAL = ["account_number", "currency", "billed_weight", "weight_unit", "zone", "service", "ship_date",
            "reference", "description", "adjustment"]


def sniff(head: bytes) -> bool:
    h = header_of(head)
    return all(c in h for c in REQUIRED)


def read(path: Path) -> ReadResult:
    df = load_csv(path, REQUIRED, "invoice", OPTIONAL)
    for c in OPTIONAL:
        if c not in df.columns:
            df[c] = ""
    ck = Checker(df)
    ck.required(*REQUIRED)
    ctype = ck.choice("charge_type", CHARGE_TYPES)
    out = pd.DataFrame({
        "invoice_number": df["invoice_number"],
        "invoice_date": ck.date("invoice_date"),
        "carrier": df["carrier"].str.lower(),
        "account_number": none_if_empty(df["account_number"]),
        "currency": none_if_empty(df["currency"].str.upper()),
        "tracking_number": df["tracking_number"],
        "charge_type": ctype,
        "amount_cents": ck.cents("amount"),
        "billed_weight": ck.decimal_text("billed_weight"),
        "weight_unit": none_if_empty(ck.choice("weight_unit", {"lb", "kg"})),
        "zone": none_if_empty(df["zone"]),
        "service": none_if_empty(df["service"]),
        "ship_date": ck.date("ship_date"),
        "reference": none_if_empty(df["reference"]),
        "description": none_if_empty(df["description"]),
        "adjustment": none_if_empty(ck.choice("adjustment", ADJUSTMENTS)),
        "line": df["line"],
    })
    return ReadResult("canonical", out.loc[~ck.bad, INVOICE_COLUMNS].reset_index(drop=True), read=len(df),
                      errors=ck.errors, notes=column_notes(df, "invoice"))


READER = Format("canonical", "invoices", sniff, read)
