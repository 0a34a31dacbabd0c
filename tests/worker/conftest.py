"""Fixtures for the worker tests: inbox folders, a worker environment, a reduced copy of the
acceptance data split into the files that would land day by day."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from tests.conftest import SMALL

from recoup.settings import Settings, load_settings
from recoup.store.db import init_db, make_engine
from recoup.worker.jobs import JobContext, cached_contracts

CARRIERS = ("ups", "fedex", "dpd_uk", "royal_mail")
RECOUP = str(Path(sys.executable).parent / "recoup")


@dataclass
class Inbox:
    root: Path

    @property
    def shipments(self) -> Path:
        return self.root / "shipments"

    @property
    def scans(self) -> Path:
        return self.root / "scans"

    @property
    def invoices(self) -> Path:
        return self.root / "invoices"

    def folders(self) -> list[Path]:
        return [self.shipments, self.scans, self.invoices]

    def waiting(self) -> list[Path]:
        return sorted(p for f in self.folders() for p in f.iterdir() if p.is_file())

    def archived(self) -> list[Path]:
        return sorted(p for f in self.folders() if (f / "archive").is_dir()
                      for p in (f / "archive").iterdir() if not p.name.endswith(".reason"))

    def rejected(self) -> list[Path]:
        return sorted(p for f in self.folders() if (f / "rejected").is_dir()
                      for p in (f / "rejected").iterdir() if not p.name.endswith(".reason"))


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    box = Inbox(tmp_path / "inbox")
    for f in box.folders():
        f.mkdir(parents=True)
    return box


@pytest.fixture
def worker_env(tmp_path: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh SQLite database, the acceptance contracts, the inbox folders, reports and outbox in
    tmp_path, filing at any hour; as environment variables (also set in this process)."""
    for k in list(os.environ):
        if k.startswith("RECOUP_") and k != "RECOUP_TEST_DATABASE_URL":
            monkeypatch.delenv(k)
    env = {
        "RECOUP_DATABASE_URL": f"sqlite:///{tmp_path / 'recoup.db'}",
        "RECOUP_CONTRACTS": str(SMALL / "contracts"),
        "RECOUP_INBOX__SHIPMENTS": str(inbox.shipments),
        "RECOUP_INBOX__SCANS": str(inbox.scans),
        "RECOUP_INBOX__INVOICES": str(inbox.invoices),
        "RECOUP_REPORTS_DIR": str(tmp_path / "reports"),
        "RECOUP_OUTBOX": str(tmp_path / "outbox"),
        "RECOUP_BUSINESS_HOURS_ONLY": "false",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def api_env(monkeypatch: pytest.MonkeyPatch, url: str, key: str = "sandbox-key-123") -> None:
    for c in CARRIERS:
        up = c.upper()
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__CHANNEL", "api")
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__API_URL", url)
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__API_KEY", key)
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__RATE_LIMIT_PER_S", "0")
        monkeypatch.setenv(f"RECOUP_CARRIERS__{up}__TIMEOUT_S", "5")


def make_ctx(settings: Settings, *, clock: Callable[[], dt.datetime] | None = None,
             engine: Engine | None = None, **kw: object) -> JobContext:
    if engine is None:
        engine = make_engine(settings.database_url)
        init_db(engine)
    eng = engine
    contracts_dir = settings.contracts_dir()
    extra: dict[str, object] = dict(kw)
    if clock is not None:
        extra["clock_source"] = clock
    return JobContext(eng, settings, cached_contracts(contracts_dir), **extra)  # type: ignore[arg-type]


@pytest.fixture
def settings(worker_env: dict[str, str]) -> Settings:
    return load_settings()


# ----------------------------------------------------------------------------------------- data

def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or []), list(r)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header)
        w.writeheader()
        w.writerows(rows)
    return path


@dataclass
class DayFiles:
    """The acceptance data (optionally reduced) as the files that land on each day."""

    root: Path
    files: dict[dt.date, list[tuple[str, Path]]]     # day -> [(kind, file)]
    tracking_numbers: set[str]

    def up_to(self, day: dt.date) -> list[tuple[str, Path]]:
        return [f for d in sorted(self.files) if d <= day for f in self.files[d]]

    def on(self, day: dt.date) -> list[tuple[str, Path]]:
        return self.files.get(day, [])

    def drop(self, files: list[tuple[str, Path]], inbox: Inbox) -> int:
        for kind, p in files:
            shutil.copy(p, getattr(inbox, kind) / p.name)
        return len(files)


def split_by_day(out: Path, per_carrier: int | None, start: dt.date) -> DayFiles:
    """Shipments by ship date, scans by the day they happened, invoices by their date (weekly), the
    credit invoices on their date; what happened before ``start`` lands on ``start`` as one manifest
    and one scans file (the backlog). ``per_carrier``: keep that many parcels per carrier (all the
    parcels credited, then the first others), to keep a month of audits quick."""
    out.mkdir(parents=True, exist_ok=True)
    sh_head, ships = _read(SMALL / "shipments.csv")
    credit_files = sorted((SMALL / "credits").glob("*.csv"))
    invoice_files = sorted((SMALL / "invoices").glob("*.csv"))
    credited = {r["tracking_number"] for p in credit_files for r in _read(p)[1]}
    keep: set[str] = set()
    if per_carrier is None:
        keep = {r["tracking_number"] for r in ships}
    else:
        for c in CARRIERS:
            mine = [r["tracking_number"] for r in ships if r["carrier"] == c]
            chosen = [t for t in mine if t in credited]
            chosen += [t for t in mine if t not in credited][: max(0, per_carrier - len(chosen))]
            keep |= set(chosen)
    files: dict[dt.date, list[tuple[str, Path]]] = {}

    def add(day: dt.date, kind: str, path: Path) -> None:
        files.setdefault(day, []).append((kind, path))

    def landing(day: str) -> dt.date:
        return max(dt.date.fromisoformat(day), start)

    by_day: dict[dt.date, list[dict[str, str]]] = {}
    for r in ships:
        if r["tracking_number"] in keep:
            by_day.setdefault(landing(r["ship_date"]), []).append(r)
    for day, rows in sorted(by_day.items()):
        add(day, "shipments", _write(out / f"manifest-{day}.csv", sh_head, rows))
    sc_head, scans = _read(SMALL / "scans.csv")
    by_day = {}
    for r in scans:
        if r["tracking_number"] in keep:
            by_day.setdefault(landing(r["occurred_at"][:10]), []).append(r)
    for day, rows in sorted(by_day.items()):
        add(day, "scans", _write(out / f"scans-{day}.csv", sc_head, rows))
    for p in [*invoice_files, *credit_files]:
        head, rows = _read(p)
        rows = [r for r in rows if r["tracking_number"] in keep]
        if rows:
            add(dt.date.fromisoformat(rows[0]["invoice_date"]), "invoices", _write(out / p.name, head, rows))
    return DayFiles(out, files, keep)


@pytest.fixture(scope="session")
def month_data(tmp_path_factory: pytest.TempPathFactory) -> DayFiles:
    return split_by_day(tmp_path_factory.mktemp("month"), per_carrier=20, start=dt.date(2026, 10, 17))
