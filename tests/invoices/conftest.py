"""Fixtures of the invoice reader tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "invoices"


@pytest.fixture(scope="session")
def make_pdfs() -> ModuleType:
    """tests/fixtures/invoices/make_pdfs.py: the carrier-style PDF invoices of the golden tests and
    ``text_pdf`` (plain PDFs of given lines); a script, not a package, so loaded by its path."""
    spec = importlib.util.spec_from_file_location("make_pdfs", FIXTURES / "make_pdfs.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
