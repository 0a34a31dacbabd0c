"""Realistic sample data for ``recoup demo``, generated from a fixed seed.

A merchant ships from a Chicago warehouse (UPS, FedEx) and a Northampton one (DPD UK, Royal Mail)
between :data:`FIRST_SHIP` and :data:`LAST_SHIP`. :func:`generate` writes, into one folder:

- ``contracts/``: the bundled demo contracts (:mod:`recoup.demo.contracts`) with their rate cards,
  fuel tables and delivery-area lists;
- ``shipments.csv``: the manifest (canonical CSV, spec/formats.md);
- ``scans.csv``: tracking events with the local UTC offset of each scan (US time zones from
  New York to Phoenix, Europe/London; both daylight-saving changes fall inside the data);
- ``invoices/``: one canonical invoice CSV per carrier and week;
- ``credits/``: one credit note per carrier, paying part of what is owed;
- ``planted.json``: what the generator planted, by finding kind (for the curious and the tests).

What happens to the parcels: most arrive on time (holidays, Saturdays and the carriers' business
days respected); some arrive late (by a minute, by hours, by days; some after an exception the
contract excludes: weather, address, customer; some after the carrier's own delay), some are lost
(a ``lost`` scan, or the scans just stop), damaged, refused and returned, left at a pickup shop,
or never scanned at all (a label billed but never shipped). Invoices carry the usual billing errors:
duplicate lines and re-billed parcels, residential surcharges on commercial addresses, delivery
area surcharges outside the carrier's list, address corrections on validated addresses,
dimensional weight above the parcel's, rates above the rate card, fuel above the fuel table.

Deterministic: the same seed and size give the same bytes (one :class:`random.Random`, no clock,
no set iteration). Money is integer cents; every timestamp is time-zone aware.

The expected answers (``planted.json``) come from an independent re-implementation of the demo
contracts' terms (:mod:`.independent_terms`) and of the service findings (:func:`.journeys.service_findings`),
never from recoup's contract loader or audit: the generator imports nothing of recoup outside
``recoup.demo`` (tests/demo/test_demo.py checks), so a bug in the audit cannot agree with itself.

Modules: ``basics`` (dates, finding kinds, money as text, a planted finding), ``independent_terms``,
``merchant`` (warehouses, destinations, carriers, tariffs), ``parcels`` (parcels, scans, invoice lines,
tracking numbers), ``journeys`` (what happens to a parcel; service findings), ``billing`` (invoices and
their planted errors, credit notes), ``showcase`` (the issue 13 finding kinds, the account fee),
``write`` (the files); :func:`generate` here runs them in order.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from recoup.demo import DEFAULT_SEED, DEFAULT_SHIPMENTS
from recoup.demo.generate.basics import (
    AS_OF,
    BILLING_KINDS,
    CREDIT_DATE,
    FIRST_SHIP,
    LAST_SHIP,
    REPORT_MONTH,
    SERVICE_KINDS,
    Planted,
)
from recoup.demo.generate.billing import bill, invoice_dates, new_invoice_number, plan_credits
from recoup.demo.generate.independent_terms import contract_files, contracts_root, load_terms
from recoup.demo.generate.journeys import make_parcel, service_findings, ship_days
from recoup.demo.generate.merchant import PROFILES
from recoup.demo.generate.parcels import Line, Parcel
from recoup.demo.generate.showcase import (
    ACCOUNT_FEE_FILE,
    SHOWCASE_FROM,
    SHOWCASE_KINDS,
    SHOWCASE_PARCELS,
    account_fees_file,
    showcase_parcels,
)
from recoup.demo.generate.write import write_files

__all__ = ["ACCOUNT_FEE_FILE", "AS_OF", "BILLING_KINDS", "CREDIT_DATE", "DEFAULT_SEED", "DEFAULT_SHIPMENTS",
           "FIRST_SHIP", "LAST_SHIP", "REPORT_MONTH", "SERVICE_KINDS", "SHOWCASE_KINDS", "GeneratedData", "Planted",
           "generate"]


@dataclass
class GeneratedData:
    folder: Path
    seed: int
    as_of: dt.date
    report_month: str
    contracts: Path
    shipments: Path
    scans: Path
    invoices: list[Path]
    credits: list[Path]
    planted: list[Planted]
    counts: dict[str, int]

    def files(self) -> list[Path]:
        """Every file written, sorted (contracts included)."""
        return sorted(p for p in self.folder.rglob("*") if p.is_file())


def generate(folder: Path, *, seed: int = DEFAULT_SEED, shipments: int = DEFAULT_SHIPMENTS) -> GeneratedData:
    """Write the demo data set into ``folder`` (created; files in it are overwritten)."""
    if shipments < 40:
        raise ValueError("the demo needs at least 40 shipments")
    folder = Path(folder)
    rng = random.Random(seed)
    contracts = folder / "contracts"
    contracts.mkdir(parents=True, exist_ok=True)
    for name in contract_files():
        (contracts / name).write_bytes(contracts_root().joinpath(name).read_bytes())

    parcels: list[Parcel] = []
    used: set[str] = set()
    showcase = shipments >= SHOWCASE_FROM
    shipments -= SHOWCASE_PARCELS if showcase else 0      # the showcase parcels count in the total asked for
    left = shipments
    for i, prof in enumerate(PROFILES):
        n = left if i == len(PROFILES) - 1 else shipments * prof.share // 1000
        left -= n
        terms = load_terms(prof.code)
        days, weights = ship_days(prof.origin.country)
        for ship in sorted(rng.choices(days, weights=weights, k=n)):
            parcels.append(make_parcel(prof, terms, rng, ship, used))
    parcels.sort(key=lambda p: (p.ship, p.prof.code, p.tracking))
    for i, p in enumerate(parcels):
        p.order_id = f"ORD-{260000 + i}"

    planted: list[Planted] = []
    invoices: dict[tuple[str, str], tuple[dt.date, list[tuple[Parcel, Line]]]] = {}
    for prof in PROFILES:
        dates = invoice_dates(prof)
        numbers = [new_invoice_number(prof, d, rng) for d in dates]
        for number, day in zip(numbers, dates, strict=True):
            invoices[(prof.code, number)] = (day, [])
        mine = [p for p in parcels if p.prof is prof]
        for p in mine:
            for k, day in enumerate(dates):
                if day - dt.timedelta(days=9) <= p.ship <= day - dt.timedelta(days=3):
                    p.invoice = (numbers[k], day)
                    bill(p, rng, planted, numbers[k])
                    rows = invoices[(prof.code, numbers[k])][1]
                    rows.extend((p, ln) for ln in p.lines)
                    if p.error == "duplicate_charge":
                        if k + 1 < len(dates) and rng.random() < 0.5:      # the parcel billed again next week
                            nxt = invoices[(prof.code, numbers[k + 1])][1]
                            nxt.extend((p, ln) for ln in p.lines)
                            planted.extend(Planted("duplicate_charge", prof.code, p.tracking, numbers[k + 1], ln.cents)
                                           for ln in p.lines)
                        else:                                              # one charge twice on the invoice
                            ln = next((x for x in p.lines if x.charge_type in ("residential", "delivery_area")),
                                      p.lines[0])
                            rows.append((p, ln))
                            planted.append(Planted("duplicate_charge", prof.code, p.tracking, numbers[k], ln.cents))
                    break

    planted.extend(service_findings(parcels))
    credit_rows = plan_credits(parcels, planted, rng)
    extra = showcase_parcels(parcels, invoices, planted, seed) if showcase else []
    assert not showcase or len(extra) == SHOWCASE_PARCELS
    fees = account_fees_file(invoices, planted) if showcase else None
    planted.extend(service_findings(extra))
    parcels = parcels + extra
    counts = write_files(folder, parcels, invoices, credit_rows, planted)
    if fees is not None:
        counts["invoices"] += 1
        counts["invoice_lines"] += fees.count("\n")
        (folder / "invoices" / ACCOUNT_FEE_FILE).write_text(fees, encoding="utf-8")
    return GeneratedData(
        folder=folder, seed=seed, as_of=AS_OF, report_month=REPORT_MONTH, contracts=contracts,
        shipments=folder / "shipments.csv", scans=folder / "scans.csv",
        invoices=sorted((folder / "invoices").glob("*.csv")), credits=sorted((folder / "credits").glob("*.csv")),
        planted=planted, counts=counts)
