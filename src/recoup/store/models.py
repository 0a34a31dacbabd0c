"""Everything recoup keeps, as SQLModel tables.

Money is integer minor units (``*_cents``, BigInteger), never float. Weights and dimensions are
exact decimals kept as text. Timestamps are time-zone aware (UTC instants; scans also keep the
UTC offset they were recorded with). Unique keys make re-ingest and re-audit idempotent.

No timestamp has a default: every instant is written by the caller from its clock
(:mod:`recoup.clock`), so a replay (``--as-of``) writes the replayed day's instants.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Index, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from recoup.store.types import UTCDateTime


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, typed (SQLModel leaves ``Model.__table__`` untyped)."""
    t = model.__table__  # type: ignore[attr-defined]
    assert isinstance(t, Table)
    return t


def _ts(nullable: bool = True, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _cents(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(BigInteger, nullable=nullable)


class IngestedFile(SQLModel, table=True):
    __tablename__ = "ingested_file"
    id: int | None = Field(default=None, primary_key=True)
    path: str
    sha256: str = Field(index=True)
    kind: str                      # shipments | scans | invoices
    format: str | None = None
    outcome: str                   # loaded | partial | refused | duplicate
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    message: str | None = Field(default=None, sa_column=Column(Text))
    at: dt.datetime = Field(sa_column=_ts(False))


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_number", name="uq_shipment"),
        # the incremental audit's "manifest rows changed since the last run" (0004)
        Index("ix_shipment_updated_at", "updated_at"),
        Index("ix_shipment_file_id", "file_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    carrier: str
    tracking_number: str
    manifested: bool = True       # False: billed or scanned but never manifested
    service: str | None = None
    account_number: str | None = None
    ship_date: dt.date | None = None
    promised_delivery: str | None = None    # ISO 8601 with offset, as written
    origin_postal: str | None = None
    origin_country: str | None = None
    dest_postal: str | None = None
    dest_country: str | None = None
    dest_residential: bool | None = None
    address_validated: bool | None = None
    weight: str | None = None
    weight_unit: str | None = None
    length: str | None = None
    width: str | None = None
    height: str | None = None
    dim_unit: str | None = None
    declared_value_cents: int | None = Field(default=None, sa_column=_cents(True))
    item_value_cents: int | None = Field(default=None, sa_column=_cents(True))
    currency: str | None = None
    dest_timezone: str | None = None
    order_id: str | None = None
    signature: str | None = None  # none | direct | adult: the signature option the label bought (0003)
    file_id: int | None = Field(default=None, foreign_key="ingested_file.id")
    updated_at: dt.datetime = Field(sa_column=_ts(False))


class ScanEvent(SQLModel, table=True):
    __tablename__ = "scan_event"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_number", "occurred_at", "status", name="uq_scan"),
    )
    id: int | None = Field(default=None, primary_key=True)
    carrier: str
    tracking_number: str
    occurred_at: dt.datetime = Field(sa_column=_ts(False))   # UTC instant
    utc_offset_min: int | None = None   # the offset the source recorded; None: use the destination zone
    status: str
    carrier_status_code: str | None = None
    description: str | None = None
    city: str | None = None
    postal: str | None = None
    country: str | None = None
    exception_reason: str | None = None
    source: str | None = None
    file_id: int | None = Field(default=None, foreign_key="ingested_file.id")


class Invoice(SQLModel, table=True):
    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("carrier", "invoice_number", name="uq_invoice"),)
    id: int | None = Field(default=None, primary_key=True)
    carrier: str
    invoice_number: str
    invoice_date: dt.date
    account_number: str | None = None
    currency: str | None = None
    lines_hash: str          # hash of the canonical lines: a different file with other lines is refused
    line_count: int
    total_cents: int = Field(sa_column=_cents())
    format: str | None = None
    file_id: int | None = Field(default=None, foreign_key="ingested_file.id")
    loaded_at: dt.datetime = Field(sa_column=_ts(False))


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"
    __table_args__ = (
        UniqueConstraint("invoice_id", "line_no", name="uq_invoice_line"),
        Index("ix_invoice_line_parcel", "carrier", "tracking_number"),
    )
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id")
    line_no: int                      # order within the invoice
    carrier: str
    invoice_number: str
    invoice_date: dt.date
    tracking_number: str | None = None   # None: an account-level charge (fee, service/pickup charge)
    charge_type: str
    amount_cents: int = Field(sa_column=_cents())
    currency: str | None = None
    billed_weight: str | None = None
    weight_unit: str | None = None
    zone: str | None = None
    service: str | None = None
    ship_date: dt.date | None = None
    reference: str | None = None
    description: str | None = None
    account_number: str | None = None
    adjustment: str | None = None     # charge_correction | residential_adjustment | return | ... (ingest.base)


class Finding(SQLModel, table=True):
    __tablename__ = "finding"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)    # kind|carrier|tracking|invoice line
    kind: str = Field(index=True)
    carrier: str = Field(index=True)
    tracking_number: str = Field(index=True)
    invoice_number: str | None = None
    invoice_line_id: int | None = None
    amount_cents: int = Field(sa_column=_cents())
    currency: str
    deadline: dt.date | None = None
    claimable: bool
    reason: str = Field(sa_column=Column(Text, nullable=False))
    evidence: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    status: str = "open"            # open | withdrawn
    first_seen: dt.datetime = Field(sa_column=_ts(False))
    updated_at: dt.datetime = Field(sa_column=_ts(False))


class FindingHistory(SQLModel, table=True):
    __tablename__ = "finding_history"
    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    at: dt.datetime = Field(sa_column=_ts(False))
    change: str                      # opened | updated | withdrawn | reopened
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class Claim(SQLModel, table=True):
    __tablename__ = "claim"
    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", unique=True)
    kind: str
    carrier: str = Field(index=True)
    tracking_number: str = Field(index=True)
    status: str = Field(index=True)
    channel: str | None = None
    claimed_cents: int = Field(sa_column=_cents())
    approved_cents: int | None = Field(default=None, sa_column=_cents(True))
    credited_cents: int = Field(default=0, sa_column=_cents())
    currency: str
    deadline: dt.date | None = None
    idempotency_key: str = Field(unique=True)
    carrier_reference: str | None = Field(default=None, index=True)
    filed_at: dt.datetime | None = Field(default=None, sa_column=_ts())
    needs_approval: bool = False
    approved_by: str | None = None
    message: str | None = Field(default=None, sa_column=Column(Text))
    created_at: dt.datetime = Field(sa_column=_ts(False))
    updated_at: dt.datetime = Field(sa_column=_ts(False))


class ClaimEvent(SQLModel, table=True):
    """Append-only history of a claim."""

    __tablename__ = "claim_event"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    at: dt.datetime = Field(sa_column=_ts(False))
    from_status: str | None = None
    to_status: str
    actor: str                       # worker | cli:<user> | carrier
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class Credit(SQLModel, table=True):
    """A credit line from an invoice (positive amount = what the carrier gave back)."""

    __tablename__ = "credit"
    id: int | None = Field(default=None, primary_key=True)
    invoice_line_id: int = Field(foreign_key="invoice_line.id", unique=True)
    carrier: str = Field(index=True)
    tracking_number: str = Field(index=True)
    invoice_number: str
    invoice_date: dt.date
    reference: str | None = None
    description: str | None = None
    amount_cents: int = Field(sa_column=_cents())
    currency: str | None = None
    matched_cents: int = Field(default=0, sa_column=_cents())


class CreditMatch(SQLModel, table=True):
    __tablename__ = "credit_match"
    id: int | None = Field(default=None, primary_key=True)
    credit_id: int = Field(foreign_key="credit.id", index=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    amount_cents: int = Field(sa_column=_cents())
    rule: str                        # reference | tracking | kind | amount | oldest
    at: dt.datetime = Field(sa_column=_ts(False))


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "tick", name="uq_job_tick"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(index=True)
    tick: str                        # the scheduled instant (ISO) this run belongs to
    worker: str | None = None
    started_at: dt.datetime = Field(sa_column=_ts(False))
    finished_at: dt.datetime | None = Field(default=None, sa_column=_ts())
    outcome: str = "running"         # running | ok | warning | failed | skipped
    counts: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class CarrierPause(SQLModel, table=True):
    __tablename__ = "carrier_pause"
    carrier: str = Field(primary_key=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: dt.datetime = Field(sa_column=_ts(False))


class AuditState(SQLModel, table=True):
    """Key/value state of the audit, e.g. the high-water marks of the incremental audit."""

    __tablename__ = "audit_state"
    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
