"""Generate UPS Billing Data v2.1 rows (headerless, 250 columns) for benchmarks and tests.

    python bench/gen_ups_billing.py --rows 1000000 --out /tmp/ups.csv [--semicolon] [--trim]

Rows come per parcel as UPS bills them: a transportation row (FRT, with billed weight,
zone and service), a fuel row (FSC), often a residential (ACC RES) and sometimes a delivery
area (ACC RDR) row, now and then an informational row (INF, not a charge) or an address
correction (ADJ/ADC). Amounts vary per parcel, so the reader sees many distinct values.
``--semicolon`` writes the European export (``;`` and DD/MM/YYYY dates); ``--trim`` drops
trailing empty columns from each row, as some exports do. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, timedelta
from pathlib import Path

N_COLUMNS = 250
SERVICES = [("1", "Next Day Air"), ("2", "2nd Day Air"), ("3", "Ground"), ("12", "3 Day Select"),
            ("13", "Next Day Air Saver")]
ACCESSORIALS = [("RES", "Residential Surcharge", 0.60, 595),
                ("RDR", "Delivery Area Surcharge - Residential", 0.10, 550),
                ("AHW", "Additional Handling Surcharge - Weight", 0.02, 3150)]
# 0-based positions (formats.md)
ACCOUNT, INV_DATE, INV_NO, CURRENCY, INV_AMOUNT, TXN_DATE, LEAD, PKG_QTY, TRACKING = 2, 4, 5, 9, 10, 11, 13, 18, 20
ENT_W, ENT_U, BILL_W, BILL_U, ZONE, CATEGORY, DETAIL = 26, 27, 28, 29, 33, 34, 35
CLASS, DESC_CODE, DESC, BASIS_CUR, BASIS, TXN_CUR, INCENTIVE, NET, SHIP_DATE = 43, 44, 45, 47, 48, 50, 51, 52, 116


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _tracking(rng: random.Random) -> str:
    return "1Z" + "".join(rng.choice("0123456789ABCDEF") for _ in range(16))


def generate(rows: int, out, *, semicolon: bool = False, trim: bool = False, seed: int = 1,
             rows_per_invoice: int = 50_000) -> int:
    """Write `rows` rows to the text stream `out`; returns the number of charge rows (not INF)."""
    rng = random.Random(seed)
    sep = ";" if semicolon else ","

    def fmt_date(d: date) -> str:
        return d.strftime("%d/%m/%Y") if semicolon else d.isoformat()

    base_invoice_date = date(2026, 9, 5)
    written = charges = 0
    invoice_index = -1
    template = [""] * N_COLUMNS
    template[0], template[1], template[3], template[6] = "2.1", "0000A1B2C3", "US", "E"
    template[ACCOUNT], template[CURRENCY] = "UPS-001", "USD"
    template[BASIS_CUR], template[TXN_CUR], template[INCENTIVE] = "USD", "USD", "0.00"
    buf: list[str] = []
    while written < rows:
        if written // rows_per_invoice != invoice_index:
            invoice_index = written // rows_per_invoice
            inv_date = base_invoice_date + timedelta(days=7 * invoice_index)
            template[INV_DATE] = fmt_date(inv_date)
            template[INV_NO] = f"UPS-{inv_date:%Y%m%d}-{1000 + invoice_index}"
            template[INV_AMOUNT] = _money(rng.randint(10_000_00, 99_999_99))
        ship = inv_date - timedelta(days=rng.randint(3, 12))
        tracking = _tracking(rng)
        service, service_name = rng.choice(SERVICES)
        weight = str(rng.randint(1, 120))
        zone = f"{rng.randint(2, 8):03d}"
        transport = rng.randint(8_00, 250_00)
        parcel_rows: list[tuple[str, str, str, str, str, int, bool]] = []
        # (category, detail, classification, code, description, cents, with_weight)
        if rng.random() < 0.08:
            parcel_rows.append(("INF", "", "INF", "", "Shipper Paid Information", transport, True))
        parcel_rows.append(("SHP", "", "FRT", service, service_name, transport, True))
        parcel_rows.append(("SHP", "", "FSC", "FSC", "Fuel Surcharge", transport * 19 // 100, False))
        for code, text, share, cents in ACCESSORIALS:
            if rng.random() < share:
                parcel_rows.append(("SHP", "", "ACC", code, text, cents, False))
        if rng.random() < 0.02:
            parcel_rows.append(("ADJ", "ADC", "ACC", "ADC", "Address Correction Ground", 24_50, False))
        for category, detail, klass, code, text, cents, with_weight in parcel_rows:
            if written >= rows:
                break
            row = template.copy()
            row[TXN_DATE] = row[SHIP_DATE] = fmt_date(ship)
            row[LEAD] = row[TRACKING] = tracking
            row[PKG_QTY] = "1"
            row[CATEGORY], row[DETAIL], row[CLASS], row[DESC_CODE], row[DESC] = category, detail, klass, code, text
            row[BASIS] = _money(cents)
            row[NET] = _money(cents)
            if with_weight:
                row[ENT_W] = row[BILL_W] = weight
                row[ENT_U] = row[BILL_U] = "L"
                row[ZONE] = zone
            line = sep.join(row)
            if trim:
                line = line.rstrip(sep)
            buf.append(line)
            written += 1
            charges += klass != "INF"
        if len(buf) >= 10_000:
            out.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")
    return charges


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--semicolon", action="store_true", help="';' and DD/MM/YYYY dates")
    parser.add_argument("--trim", action="store_true", help="drop trailing empty columns")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with args.out.open("w", encoding="utf-8", newline="") as out:
        charges = generate(args.rows, out, semicolon=args.semicolon, trim=args.trim, seed=args.seed)
    print(f"wrote {args.rows} rows ({charges} charges) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
