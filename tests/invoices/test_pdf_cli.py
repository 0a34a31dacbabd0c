"""PDF invoices of issue 11 through the CLI (`recoup ingest invoices`): UPS shipment blocks, FedEx
with an Air Waybill column, Royal Mail product lines and a credit note; a non-carrier PDF is refused
with one line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from recoup.cli import app
from recoup.store.db import make_engine

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "invoices"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def scalar(url: str, sql: str) -> int:
    eng = make_engine(url)
    with eng.connect() as c:
        n = int(c.execute(text(sql)).scalar_one() or 0)
    eng.dispose()
    return n


@pytest.fixture
def initdb(cli_env: dict[str, str]) -> str:
    assert run("init")[0] == 0
    return cli_env["RECOUP_DATABASE_URL"]


def test_ingest_carrier_pdf_layouts(make_pdfs: ModuleType, initdb: str, tmp_path: Path) -> None:
    ups = tmp_path / "ups.pdf"
    ups_total = make_pdfs.ups_invoice(ups)
    files = [ups, FIXTURES / "fedex_air_waybill.pdf", FIXTURES / "royal_mail_products.pdf",
             FIXTURES / "royal_mail_credit_note.pdf"]
    code, out, err = run("ingest", "invoices", *map(str, files))
    assert code == 0, out + err
    assert "refused" not in out + err
    assert scalar(initdb, "select count(*) from invoice") == 4
    assert scalar(initdb, "select sum(amount_cents) from invoice_line where tracking_number like '1Z%'") == int(
        ups_total * 100)
    assert scalar(initdb, "select count(*) from invoice_line where carrier = 'fedex'") > 0
    assert scalar(initdb, "select count(*) from invoice_line where carrier = 'royal_mail' and charge_type = "
                          "'transportation'") > 0
    assert scalar(initdb, "select count(*) from credit where invoice_number = 'CN-2026-000417'") == 4


def test_ingest_refuses_a_pdf_whose_shipments_do_not_add_up(make_pdfs: ModuleType, initdb: str, tmp_path: Path) -> None:
    ups = tmp_path / "ups.pdf"
    make_pdfs.ups_invoice(ups, total_delta=Decimal("12.34"))
    code, out, err = run("ingest", "invoices", str(ups))
    assert code == 1
    assert "difference 12.34" in out + err
    assert "Traceback" not in out + err
    assert scalar(initdb, "select count(*) from invoice_line") == 0


def test_ingest_refuses_a_pdf_that_is_no_carrier_invoice(initdb: str, tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "shop.pdf"
    c = Canvas(str(path), invariant=True)
    c.drawString(50, 750, "Invoice 2026-0042   Invoice Date: 02/03/2026")
    c.drawString(50, 730, "Description   Qty   Price   Total")
    c.drawString(50, 710, "Walking boots   1   89.00   89.00")
    c.drawString(50, 690, "Total  89.00")
    c.showPage()
    c.save()
    code, out, err = run("ingest", "invoices", str(path))
    assert code == 1
    assert "no charge table found" in out + err
    assert "not a parcel carrier's" in out + err
    assert "Traceback" not in out + err
