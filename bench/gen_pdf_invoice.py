"""Generate a long DPD UK-style PDF invoice for the PDF reader benchmark (reportlab; test-only).

    python bench/gen_pdf_invoice.py --pages 500 --out /tmp/dpd_500.pdf

The layout is the golden fixture's (tests/fixtures/invoices/make_pdfs.py, dpd_uk_consignments):
unruled columns, page and table headers repeated on every page, 34 rows a page, page subtotal,
carried / brought forward rows, Net Total / VAT / Invoice Total. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

MAKE_PDFS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "invoices" / "make_pdfs.py"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--out", type=Path, default=Path("/tmp/recoup_bench_invoice.pdf"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    spec = importlib.util.spec_from_file_location("make_pdfs", MAKE_PDFS)
    assert spec is not None
    assert spec.loader is not None
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    t0 = time.perf_counter()
    # about 2.4 rows per consignment; ask for enough and cut at the page count
    net = make.dpd_invoice(args.out, consignments=args.pages * 34 // 2 + 10, seed=args.seed, pages=args.pages)
    print(f"wrote {args.out}: {args.pages} pages, net total {net}, {args.out.stat().st_size / 1e6:.1f} MB, "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
