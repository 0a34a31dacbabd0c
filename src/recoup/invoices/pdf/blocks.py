"""Shipment blocks: a layout with ``[layout.blocks]``, e.g. the UPS invoice PDF (see the package
docstring, "Shipment blocks"; pure)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from recoup.invoices.pdf.layouts import Blocks, norm
from recoup.invoices.pdf.lines import Build, type_of
from recoup.invoices.pdf.values import MONTHS, money_in_text, parse_date, tracking_number, weight_text
from recoup.money import fmt, to_cents


@dataclass
class Block:
    page: int                                   # 1-based page of the block's first line
    tn: str
    raw: dict[str, str]                         # ship_date, service, zone, billed_weight, weight_unit, reference
    charges: list[tuple[int, str, Decimal]] = field(default_factory=list)   # (page, description, amount)
    total: Decimal | None = None
    end_tn: str | None = None
    problem: str | None = None


def _last_amount(text: str | None) -> Decimal | None:
    """The last amount of a text that may print several (published, incentive, billed): the billed one."""
    found = money_in_text(text or "")
    return found[-1][1] if found else None


def read_blocks(pages: list[dict[str, Any]], spec: Blocks) -> tuple[list[Block], set[tuple[int, int]]]:
    """The shipment blocks of the text lines (spaces collapsed), and the (page, line) indexes of their
    total lines. Lines outside blocks (summaries, notices, remittance slips) are not read."""
    blocks: list[Block] = []
    consumed: set[tuple[int, int]] = set()
    cur: Block | None = None
    for pi, page in enumerate(pages):
        for li, line in enumerate(page["lines"]):
            s = " ".join(line.split())
            me = spec.end.search(s)
            if me:
                consumed.add((pi, li))
                g = me.groupdict()
                end_tn = tracking_number(g["tracking_number"]) if g.get("tracking_number") else None
                total = _last_amount(g.get("amounts"))
                if cur is None:
                    blocks.append(Block(pi + 1, end_tn or "", {}, total=total, end_tn=end_tn,
                                         problem=f"a shipment total line with no shipment above it: {s!r}"))
                else:
                    cur.total, cur.end_tn = total, end_tn
                    blocks.append(cur)
                    cur = None
                continue
            ms = spec.start.search(s)
            tn = tracking_number(ms.group("tracking_number")) if ms else None
            if ms and tn:
                if cur is not None:
                    cur.problem = f"no shipment total line before the next shipment ({tn})"
                    blocks.append(cur)
                raw = {k: v.strip() for k, v in ms.groupdict().items() if v and k != "tracking_number"}
                cur = Block(pi + 1, tn, raw)
                amount = _last_amount(raw.pop("amounts", None))
                if amount is not None:               # the opening line carries the shipment's own charge
                    cur.charges.append((pi + 1, raw.get("service") or "Transportation", amount))
                continue
            if cur is None:
                continue
            mc = spec.charge.search(s)
            if mc and not (spec.not_charges and any(spec.not_charges.match(norm(ph)) for ph in line.split("  "))):
                amount = _last_amount(mc.group("amounts"))
                if amount is not None:
                    cur.charges.append((pi + 1, " ".join(mc.group("description").split()), amount))
                    continue
            for f, rx in spec.fields.items():
                mf = rx.search(s)
                if mf and f not in cur.raw:
                    cur.raw[f] = mf.group("v").strip()
    if cur is not None:
        cur.problem = "no shipment total line (the file ends inside the shipment)"
        blocks.append(cur)
    return blocks, consumed


_SHORT_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})|([A-Za-z]{3,9})\.?\s+(\d{1,2})")


def _block_date(text: str, order: str, invoice_date: dt.date | None) -> dt.date | None:
    """A ship date; one printed without its year ("03/09", "Mar 9") is in the year that puts it on or
    before the invoice date."""
    full = parse_date(text, order)
    if full is not None or invoice_date is None:
        return full
    m = _SHORT_DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        if m.group(1):
            a, b = int(m.group(1)), int(m.group(2))
            day, month = (a, b) if order == "dmy" else (b, a)
        else:
            month, day = MONTHS.get(m.group(3)[:3].lower(), 0), int(m.group(4))
        d = dt.date(invoice_date.year, month, day)
        return d if d <= invoice_date else dt.date(invoice_date.year - 1, month, day)
    except ValueError:
        return None


def block_charges(blocks: list[Block], b: Build) -> None:
    """The charge lines of the shipment blocks. A block whose lines do not add up to its own total is
    one error (its lines are not loaded), as is a block without its total line."""
    from recoup.ingest.base import RowError

    m = b.meta
    line_no = 0
    for blk in blocks:
        first = line_no + 1
        line_no += max(len(blk.charges), 1)

        def err(reason: str, column: str | None = "amount", blk: Block = blk, first: int = first) -> None:
            b.errors.append(RowError(first, column, f"page {blk.page}: shipment {blk.tn or '?'}: {reason}",
                                     m.invoice_number))
            b.read += 1

        if blk.problem:
            err(blk.problem, None)
            continue
        if blk.end_tn and blk.end_tn != blk.tn:
            err(f"its total line names {blk.end_tn}", "tracking_number")
            continue
        total = sum((a for _, _, a in blk.charges), Decimal(0))
        if blk.total is None:
            err("its total line has no amount")
            continue
        if total != blk.total:
            err(f"the charge lines add up to {fmt(total)}, its total line states {fmt(blk.total)} "
                f"(difference {fmt(abs(blk.total - total))})")
            continue
        if not blk.charges:
            b.skipped += 1                      # a shipment with no charge (total 0.00), e.g. voided
            continue
        raw = blk.raw
        ship = None
        if raw.get("ship_date"):
            ship = _block_date(raw["ship_date"], m.date_order, m.invoice_date)
            if ship is None:
                err(f"not a date: {raw['ship_date']!r}", "ship_date")
                continue
        weight = unit = None
        if raw.get("billed_weight"):
            try:
                weight, unit = weight_text(f"{raw['billed_weight']} {raw.get('weight_unit', '')}".strip(),
                                           comma_decimal=b.comma_decimal)
            except ValueError as e:
                err(str(e), "billed_weight")
                continue
        service = raw.get("service")
        own = norm(service) if service else None
        first_transport = True
        for k, (pno, desc, amount) in enumerate(blk.charges):
            cents = to_cents(amount)
            if own and norm(desc) == own and cents >= 0:
                ctype = "transportation"        # the line that names the shipment's service is its postage
            else:
                ctype = type_of(b, desc, cents)
            on_transport = ctype == "transportation" and first_transport
            first_transport = first_transport and not on_transport
            b.read += 1
            b.records.append({
                "invoice_number": m.invoice_number, "invoice_date": m.invoice_date, "carrier": m.carrier,
                "account_number": m.account_number, "currency": m.currency, "tracking_number": blk.tn,
                "charge_type": ctype, "amount_cents": cents,
                "billed_weight": weight if on_transport else None,
                "weight_unit": unit if on_transport and weight else None,
                "zone": raw.get("zone") if on_transport else None, "service": service,
                "ship_date": ship, "reference": raw.get("reference"), "description": desc,
                "line": first + k, "page": pno})
