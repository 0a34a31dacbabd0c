"""Golden files: ``python -m recoup.invoices.pdf --golden tests/fixtures/invoices`` rewrites
``<name>.expected.json`` beside every ``<name>.pdf`` there (tests/invoices/test_pdf.py compares)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoup.errors import FileRefused

if TYPE_CHECKING:  # pandas is imported where the frame is built: worker processes do not need it
    from recoup.ingest.base import ReadResult


def golden_record(path: Path, **kw: Any) -> dict[str, Any]:
    """What a golden file holds for a PDF: its lines, notes, errors and unknown codes, or the refusal."""
    from recoup.invoices.pdf import read  # the package imports this module

    try:
        res = read(path, **kw)
    except FileRefused as e:
        return {"file": path.name, "refused": str(e)}
    return golden_of(res, path.name)


def golden_of(res: ReadResult, name: str) -> dict[str, Any]:
    """The golden record of a result: plain JSON values, dates as YYYY-MM-DD."""
    import pandas as pd

    from recoup.ingest.base import INVOICE_COLUMNS

    lines = []
    for r in res.frame.to_dict("records"):
        out = {}
        for c in [*INVOICE_COLUMNS, "page"]:
            v = r[c]
            if c in ("invoice_date", "ship_date"):
                v = None if pd.isna(v) else v.date().isoformat()
            elif c in ("amount_cents", "line", "page"):
                v = int(v)
            out[c] = v
        lines.append(out)
    return {"file": name, "refused": None, "read": res.read, "notes": res.notes,
            "unknown_codes": dict(sorted(res.unknown_codes.items())),
            "errors": [e.as_dict() for e in res.errors], "lines": lines}


def golden_text(rec: dict[str, Any]) -> str:
    """JSON with one line per charge, so that a change reads as a diff."""
    lines = rec.get("lines")
    text = json.dumps({k: v for k, v in rec.items() if k != "lines"}, indent=2, ensure_ascii=False)
    if lines is None:
        return text + "\n"
    body = ",\n".join("    " + json.dumps(r, ensure_ascii=False) for r in lines)
    block = '"lines": [\n' + body + "\n  ]" if lines else '"lines": []'
    return text[:-2] + ",\n  " + block + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m recoup.invoices.pdf", description="PDF carrier invoices (formats.md, Invoices, PDF).")
    ap.add_argument("paths", nargs="*", type=Path, help="PDF files to read (the golden record is printed)")
    ap.add_argument("--golden", type=Path, help="rewrite <name>.expected.json beside every PDF in this folder")
    ap.add_argument("--carrier")
    args = ap.parse_args(argv)
    if args.golden:
        for pdf in sorted(args.golden.glob("*.pdf")):
            out = pdf.with_name(pdf.stem + ".expected.json")
            out.write_text(golden_text(golden_record(pdf, carrier=args.carrier)), encoding="utf-8")
            print(f"wrote {out}")
    for p in args.paths:
        sys.stdout.write(golden_text(golden_record(p, carrier=args.carrier)))
    return 0
