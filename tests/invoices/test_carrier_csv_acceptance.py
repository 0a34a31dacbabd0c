"""The key test: the UPS Billing Data and FedEx Billing Online files of the small-formats acceptance
set hold the same charges as the canonical CSVs of the small set, line for line."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pandas as pd
import pytest

from recoup.invoices import dhl_mybill, fedex_csv, ups_billing

from ..conftest import ACCEPTANCE

SMALL, SMALL_FORMATS = ACCEPTANCE / "small", ACCEPTANCE / "small-formats"
READERS = {"ups": ups_billing, "fedex": fedex_csv}

pytestmark = pytest.mark.skipif(not SMALL_FORMATS.is_dir(), reason="acceptance data not present")


def _number(text: object) -> Decimal | None:
    if text is None or (isinstance(text, float) and pd.isna(text)) or str(text).strip() == "":
        return None
    return Decimal(str(text).strip())


def _date(value: object) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")  # type: ignore[arg-type]


def _key(carrier, invoice_number, invoice_date, tracking, charge_type, cents, weight, zone, ship_date):
    return (carrier, invoice_number, _date(invoice_date), tracking, charge_type, int(cents),
            _number(weight), _number(zone), _date(ship_date))


def _canonical(carriers: set[str]) -> tuple[Counter, Counter]:  # type: ignore[type-arg]
    lines: Counter = Counter()  # type: ignore[type-arg]
    refs: Counter = Counter()  # type: ignore[type-arg]
    for folder in ("invoices", "credits"):
        for path in sorted((SMALL / folder).glob("*.csv")):
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            df = df[df["carrier"].isin(carriers)]
            for r in df.itertuples(index=False):
                cents = int((Decimal(r.amount) * 100).to_integral_value())
                lines[_key(r.carrier, r.invoice_number, pd.Timestamp(r.invoice_date), r.tracking_number,
                           r.charge_type, cents, r.billed_weight, r.zone,
                           pd.Timestamp(r.ship_date) if r.ship_date else None)] += 1
                if r.charge_type == "credit":
                    refs[(r.invoice_number, r.tracking_number, r.reference)] += 1
    return lines, refs


def _read_formats() -> tuple[Counter, Counter, dict[str, list[str]]]:  # type: ignore[type-arg]
    lines: Counter = Counter()  # type: ignore[type-arg]
    refs: Counter = Counter()  # type: ignore[type-arg]
    used: dict[str, list[str]] = {"ups": [], "fedex": [], "other": []}
    for folder in ("invoices", "credits"):
        for path in sorted((SMALL_FORMATS / folder).glob("*.csv")):
            head = path.read_bytes()[:65536]
            claimed = [name for name, mod in READERS.items() if mod.sniff(head)]
            assert len(claimed) <= 1, f"{path.name} claimed by {claimed}"
            assert not dhl_mybill.sniff(head), path.name
            if not claimed:
                used["other"].append(path.name)
                continue
            used[claimed[0]].append(path.name)
            result = READERS[claimed[0]].read(path)
            assert result.errors == [], (path.name, result.errors[:5])
            assert not result.unknown_codes, (path.name, result.unknown_codes)
            for r in result.frame.itertuples(index=False):
                lines[_key(r.carrier, r.invoice_number, r.invoice_date, r.tracking_number, r.charge_type,
                           r.amount_cents, r.billed_weight, r.zone, r.ship_date)] += 1
                if r.charge_type == "credit":
                    refs[(r.invoice_number, r.tracking_number, r.reference)] += 1
    return lines, refs, used


def test_ups_and_fedex_files_hold_the_canonical_lines() -> None:
    got, got_refs, used = _read_formats()
    assert (len(used["ups"]), len(used["fedex"])) == (12, 12), used
    assert all(not n.startswith(("UPS", "FEDEX")) for n in used["other"]), used["other"]
    want, want_refs = _canonical({"ups", "fedex"})
    missing, extra = want - got, got - want
    assert (missing, extra) == (Counter(), Counter()), (
        f"{sum(missing.values())} canonical line(s) not read, e.g. {list(missing)[:3]}; "
        f"{sum(extra.values())} line(s) read that the canonical CSVs lack, e.g. {list(extra)[:3]}")
    assert sum(got.values()) == sum(want.values()) > 1000
    assert got_refs == want_refs  # credits keep the carrier's adjustment / claim reference


def test_ups_informational_rows_are_counted_not_loaded() -> None:
    result = ups_billing.read(SMALL_FORMATS / "invoices" / "UPS-20260905-5780.csv")
    assert result.read == 61
    assert len(result.frame) == 55
    assert any("6 informational (INF)" in n for n in result.notes)
    assert result.frame["line"].is_unique
    assert result.frame["line"].min() == 1


def test_ups_guaranteed_service_refund_names_its_detail_code() -> None:
    frame = ups_billing.read(SMALL_FORMATS / "credits" / "UPS-20261115-CR.csv").frame
    gsr = frame[frame["description"].str.startswith("GSR")]
    assert len(gsr) == 1
    row = gsr.iloc[0]
    assert row["charge_type"] == "credit"
    assert row["amount_cents"] == -1630
    assert row["reference"] == "ADJ-4220511"
    assert row["description"] == "GSR Guaranteed Service Refund"


def test_fedex_credit_reference_and_description_come_from_the_notes() -> None:
    frame = fedex_csv.read(SMALL_FORMATS / "credits" / "FEDEX-20261115-CR.csv").frame
    row = frame[frame["tracking_number"] == "516752566732"].iloc[0]
    assert (row["charge_type"], row["amount_cents"]) == ("credit", -4898)
    assert (row["reference"], row["description"]) == ("ADJ-8226811", "Guaranteed Service Refund")
