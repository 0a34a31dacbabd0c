"""The demo pipeline: sample data → its period replayed day by day through the worker's jobs (audit,
expiry, claims filed with the local sandbox carrier, status sync, credit notes reconciled on their
date) → the monthly report; then a summary of what happened.

Nothing leaves the machine: every carrier's claims go to a :class:`~recoup.sandbox.SandboxServer`
on 127.0.0.1 through the ``api`` channel, with :class:`DemoSettings` built here in code (the
user's environment and config file play no part).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy import select
from sqlalchemy.engine import Engine

from recoup.channels.base import Channel, ChannelConfig
from recoup.clock import Clock
from recoup.demo import DEFAULT_FAULTS
from recoup.demo.generate import DEFAULT_SEED, DEFAULT_SHIPMENTS, GeneratedData, generate
from recoup.errors import RecoupError
from recoup.settings import CarrierSettings, Settings
from recoup.vocabulary import FINDING_KINDS

ACTOR = "cli:demo"
SYNC_WEEKDAYS = (0, 3)      # the replay asks the sandbox for claim statuses on Mondays and Thursdays (and the
#                             last day): every day would poll each approved claim daily, ten thousand requests
#: the demo's summary lists late deliveries first, then the other kinds in the order the audit judges them
KIND_ORDER = ("late_delivery", *(k for k in FINDING_KINDS if k != "late_delivery"))

Progress = Callable[[str], None]


class DemoSettings(Settings):
    """Settings made in code only: no ``RECOUP_*`` environment variable, no config file."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings(folder: Path, api_url: str, carriers: list[str]) -> Settings:
    """Every carrier files by ``api`` at the sandbox; a key is required by the sandbox, any will do."""
    channel = CarrierSettings(channel="api", api_url=api_url, api_key="demo-key", rate_limit_per_s=1000.0,
                              timeout_s=10.0, batch_budget_s=120.0)
    return DemoSettings(
        database_url=f"sqlite:///{folder / 'demo.db'}", contracts=folder / "data" / "contracts",
        carriers={c: channel.model_copy() for c in carriers}, outbox=folder / "outbox", reports_dir=folder / "reports",
        contact_email="claims@demo-merchant.example", approval_threshold=None,
    )


class SharedTransport(httpx.BaseTransport):
    """One HTTP transport for the whole demo (its connections kept alive across channels and days);
    a channel's client closing does not close it. Building one per channel loads the CA bundle each
    time, which took a third of the replay."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport(verify=False)      # the sandbox is plain HTTP on 127.0.0.1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass

    def shut(self) -> None:
        self.inner.close()


def sandbox_factory(carrier: str, config: ChannelConfig, transport: httpx.BaseTransport | None = None) -> Channel:
    """The regular channel, with short retry waits: the sandbox is local (Retry-After is still honoured)."""
    from recoup.channels.registry import channel_for

    return channel_for(carrier, dataclasses.replace(config, backoff_initial_s=0.01, backoff_max_s=0.1),
                       http_transport=transport)


@dataclass
class DemoResult:
    folder: Path
    database: Path
    seed: int
    as_of: dt.date
    data: dict[str, int]
    carriers: list[str]
    findings: list[dict[str, Any]]                 # per kind: count, claimable, amounts {currency: cents}
    claims: list[dict[str, Any]]                   # per currency: opened, filed, approved, ... (cents)
    statuses: list[tuple[str, dict[str, int]]]     # claim statuses after each step
    unmatched_credits: dict[str, int]              # currency -> cents
    sandbox: dict[str, Any]
    report_month: str
    report_files: list[Path] = field(default_factory=list)
    report_note: str | None = None
    problems: list[str] = field(default_factory=list)     # something failed: exit 1
    notes: list[str] = field(default_factory=list)        # worth saying, not a failure
    seconds: float = 0.0

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def contracts(self) -> Path:
        return self.folder / "data" / "contracts"


#: the file that says a folder holds a demo (which a later demo may replace), and what a demo writes
MARKER = ".recoup-demo"
WRITTEN = ("demo.db", "demo.db-wal", "demo.db-shm", "data", "reports", "outbox", MARKER)


def prepare_folder(out: Path | None) -> tuple[Path, bool]:
    """The demo's folder and whether the demo made it: a new temporary folder when ``out`` is None. An
    existing folder must be empty or hold an earlier demo (whose files are replaced); anything else is
    refused (ValueError), never overwritten."""
    if out is None:
        return Path(tempfile.mkdtemp(prefix="recoup-demo-")).resolve(), True
    out = out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder")
    created = not out.exists()
    if not created and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise ValueError(f"{out} is not empty: give an empty or new folder")
        _remove_written(out)
    out.mkdir(parents=True, exist_ok=True)
    return out, created


def mark_folder(folder: Path) -> None:
    """Say that ``folder`` holds a demo, so that the next demo there may replace it."""
    (folder / MARKER).write_text("made by `recoup demo`; safe to delete\n", encoding="utf-8")


def remove_demo(folder: Path, *, created: bool) -> None:
    """``--no-keep``: the folder goes when the demo made it; else only what the demo wrote in it."""
    if created:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        _remove_written(folder)


def _remove_written(folder: Path) -> None:
    for name in WRITTEN:
        p = folder / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def run_demo(folder: Path, *, seed: int = DEFAULT_SEED, shipments: int = DEFAULT_SHIPMENTS,
             faults: str = DEFAULT_FAULTS, progress: Progress | None = None) -> DemoResult:
    """Run the whole pipeline in ``folder`` (which should be empty) and summarise it."""
    from recoup.store.db import init_db, make_engine

    started = time.monotonic()
    say = progress or (lambda _msg: None)
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    say(f"generating sample data: {shipments} shipments, seed {seed}")
    data = generate(folder / "data", seed=seed, shipments=shipments)
    db = folder / "demo.db"
    engine = make_engine(f"sqlite:///{db}")
    try:
        init_db(engine)
        result = _pipeline(engine, folder, data, faults, say)
    finally:
        engine.dispose()
    result.database = db
    result.seconds = time.monotonic() - started
    return result


def _pipeline(engine: Engine, folder: Path, data: GeneratedData, faults: str, say: Progress) -> DemoResult:
    """The data's period replayed day by day through the worker's jobs (the backtest's day loop,
    :class:`recoup.backtest.Replay`): each file arrives on its day (shipments on their ship date, scans
    the day they happened, invoices and credit notes on their date), then audit, expiry, filing with the
    sandbox carrier and status sync run under the clock set to that day. So every claim is opened, filed
    and credited on its own day, and the monthly report shows the month as a merchant's would."""
    from recoup.backtest import DAY_JOBS, Replay, _stage, days_between, drop_staging
    from recoup.clock import replay_clock
    from recoup.sandbox import SandboxServer
    from recoup.sla.contracts import load_contracts
    from recoup.store.db import init_db, make_engine

    contracts = load_contracts(data.contracts)
    if contracts.errors:
        raise RecoupError("demo contracts do not load: " + "; ".join(contracts.errors))
    carriers = sorted(c.carrier for c in contracts.contracts)
    problems: list[str] = []
    notes: list[str] = []

    c = data.counts
    say(f"reading {c['shipments']} shipments, {c['scans']} scans, {c['invoices']} invoices, "
        f"{len(data.credits)} credit notes")
    arrivals_db = folder / "arrivals.db"
    arrivals = make_engine(f"sqlite:///{arrivals_db}")
    try:
        init_db(arrivals)
        clock = replay_clock(data.as_of)      # only read back by what arrives, on its own day
        _ingest(arrivals, "shipments", [data.shipments], contracts, problems, clock)
        _ingest(arrivals, "scans", [data.scans], contracts, problems, clock)
        _ingest(arrivals, "invoices", [*data.invoices, *data.credits], contracts, problems, clock)
        _stage(arrivals, engine)
    finally:
        arrivals.dispose()
        for p in folder.glob("arrivals.db*"):
            p.unlink()
    with engine.connect() as conn:
        first = dt.date.fromisoformat(str(conn.exec_driver_sql("SELECT min(arrives) FROM bt_shipment").scalar()))
    days = days_between(min(first, data.as_of), data.as_of)
    statuses: list[tuple[str, dict[str, int]]] = []

    shared = SharedTransport()
    with SandboxServer(faults) as sandbox, contextlib.closing(_Shut(shared)):
        settings = demo_settings(folder, sandbox.url, carriers)
        say(f"replaying {days[0]} to {days[-1]} day by day through the worker's jobs; claims go to the sandbox "
            f"carrier at {sandbox.url} (faults: {faults})")
        replay = Replay(engine, settings, contracts, days[0], label="demo",
                        channel_factory=functools.partial(sandbox_factory, transport=shared),
                        jobs=lambda d: DAY_JOBS if d.weekday() in SYNC_WEEKDAYS or d == days[-1] else DAY_JOBS[:-1])
        for day in days:
            replay.day(day)
            if day == days[-1] or (day + dt.timedelta(days=1)).month != day.month:
                statuses.append((day.isoformat(), _statuses(engine)))
                say(f"{day}: " + (", ".join(f"{k} {v}" for k, v in statuses[-1][1].items()) or "no claims yet"))
        notes.extend(replay.problems)
        requests = sandbox.requests()
        held = sandbox.claims()
        url = sandbox.url
    drop_staging(engine)
    sandbox_info = {
        "url": url, "faults": faults, "requests": len(requests),
        "faults_injected": sum(1 for r in requests if r.get("fault")),
        "fault_counts": dict(sorted(Counter(str(r["fault"]) for r in requests if r.get("fault")).items())),
        "claims": len(held),
    }

    say(f"writing the monthly report for {data.report_month}")
    files, note = write_report(engine, folder / "reports", data.report_month, data.as_of)

    return DemoResult(
        folder=folder, database=folder / "demo.db", seed=data.seed, as_of=data.as_of, data=dict(data.counts),
        carriers=carriers, findings=_findings(engine), claims=_claims(engine), statuses=statuses,
        unmatched_credits=_unmatched(engine), sandbox=sandbox_info, report_month=data.report_month,
        report_files=files, report_note=note, problems=problems, notes=notes,
    )


@dataclass
class _Shut:
    transport: SharedTransport

    def close(self) -> None:
        self.transport.shut()


def _ingest(engine: Engine, kind: str, paths: list[Path], contracts: Any, problems: list[str], clock: Clock) -> None:
    from recoup.ingest.service import ingest_files

    for s in ingest_files(engine, kind, paths, clock=clock, contracts=contracts):
        if s.refused:
            problems.append(f"{s.path}: refused: {s.refused}")
        for e in s.errors:
            problems.append(f"{s.path}: line {e.line}: {e.column}: {e.reason}")


def write_report(engine: Engine, out: Path, month: str, as_of: dt.date) -> tuple[list[Path], str | None]:
    """recovery-YYYY-MM.{xlsx,html,csv} through :mod:`recoup.reports.monthly`."""
    from recoup.reports.monthly import SECTIONS, build_monthly, csv_path, write_csv, write_html, write_xlsx

    writers = (("xlsx", write_xlsx), ("html", write_html), ("csv", write_csv))
    report = build_monthly(engine, month, as_of=as_of)
    out.mkdir(parents=True, exist_ok=True)
    paths = [Path(write(report, out / f"recovery-{month}.{ext}")) for ext, write in writers]
    # the CSV is one file per section
    paths += [p for sec in SECTIONS if (p := csv_path(out / f"recovery-{month}.csv", sec)) not in paths]
    return paths, None


# ----------------------------------------------------------------------------- the summary

def _statuses(engine: Engine) -> dict[str, int]:
    from recoup.store.models import Claim, table_of

    ct = table_of(Claim)
    with engine.connect() as conn:
        n = Counter(str(r.status) for r in conn.execute(select(ct.c.status)))
    return dict(sorted(n.items()))


def _findings(engine: Engine) -> list[dict[str, Any]]:
    from recoup.store.models import Finding, table_of

    ft = table_of(Finding)
    rows: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(ft.c.kind, ft.c.claimable, ft.c.amount_cents, ft.c.currency)
                              .where(ft.c.status == "open")):
            row = rows.setdefault(r.kind, {"kind": r.kind, "count": 0, "claimable": 0, "amounts": {}})
            row["count"] += 1
            row["claimable"] += bool(r.claimable)
            cur = r.currency or "-"
            row["amounts"][cur] = row["amounts"].get(cur, 0) + int(r.amount_cents)
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    return sorted(rows.values(), key=lambda r: (order.get(r["kind"], len(order)), r["kind"]))




def _claims(engine: Engine) -> list[dict[str, Any]]:
    """Per currency: claims opened, filed, approved (count, cents), rejected, credited (count, cents)."""
    from recoup.store.models import Claim, table_of

    ct = table_of(Claim)
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(ct).where(ct.c.status != "cancelled")):
            cur = r.currency or "-"
            row = out.setdefault(cur, {"currency": cur, "opened": 0, "claimed_cents": 0, "filed": 0,
                                       "filed_cents": 0, "approved": 0, "approved_cents": 0, "rejected": 0,
                                       "credited": 0, "credited_cents": 0, "waiting": 0})
            row["opened"] += 1
            row["claimed_cents"] += int(r.claimed_cents)
            if r.filed_at is not None:          # credited before filing (the carrier paid first) is not filed
                row["filed"] += 1
                row["filed_cents"] += int(r.claimed_cents)
            if r.approved_cents is not None:
                row["approved"] += 1
                row["approved_cents"] += int(r.approved_cents)
            if r.status == "rejected":
                row["rejected"] += 1
            if int(r.credited_cents or 0) > 0:
                row["credited"] += 1
                row["credited_cents"] += int(r.credited_cents)
            if r.status in ("ready", "needs_attention"):
                row["waiting"] += 1
    return [out[k] for k in sorted(out)]


def _unmatched(engine: Engine) -> dict[str, int]:
    from recoup.store.models import Credit, table_of

    crt = table_of(Credit)
    out: dict[str, int] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(crt.c.amount_cents, crt.c.matched_cents, crt.c.currency)):
            left = int(r.amount_cents) - int(r.matched_cents)
            if left > 0:
                out[r.currency or "-"] = out.get(r.currency or "-", 0) + left
    return dict(sorted(out.items()))
