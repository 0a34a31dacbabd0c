"""What the ``pull_tracking`` job needs around :mod:`recoup.shipments.pull`: which parcels to ask
about, which client asks a carrier's tracking API, and storing the answers like an ingested file.

A carrier is pulled only when ``carriers.<code>.tracking_api_url`` is set. The client is the one its
carrier module names (``CarrierData.tracking_api``): ``ups`` → UPS Track API, ``fedex`` → FedEx
Track API (both with ``tracking_api_key`` as the OAuth bearer token; getting the token is left to
the operator's tooling), ``easypost`` (and any carrier not registered) → EasyPost trackers
(``tracking_api_key`` is the EasyPost API key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Engine

from recoup.carriers.registry import REGISTRY
from recoup.ingest.base import ReadResult
from recoup.ingest.service import FileSummary, _file_row, _finish_file_row, _store_scans
from recoup.settings import CarrierSettings
from recoup.shipments.pull import TrackingClient, easypost_client, fedex_client, ups_client
from recoup.sla.contracts import ContractSet

FINAL_STATUSES = ("delivered", "lost", "returned_to_sender")
PULL_WINDOW_DAYS = 90      # parcels shipped longer ago than this are not asked about any more
PULL_LIMIT = 5000          # parcels asked about per carrier and run; the rest wait for the next run

TrackingClientFactory = Callable[[str, CarrierSettings], TrackingClient]


def default_tracking_client(carrier: str, cs: CarrierSettings) -> TrackingClient:
    url = cs.tracking_api_url
    assert url
    key = cs.tracking_api_key or ""
    opts: dict[str, Any] = {"timeout_s": cs.timeout_s, "rate_limit_per_s": cs.rate_limit_per_s,
                            "max_attempts": cs.max_attempts}
    spec = REGISTRY.get(carrier)
    api = spec.data.tracking_api if spec is not None else "easypost"
    clients: dict[str, Callable[..., TrackingClient]] = {
        "ups": ups_client, "fedex": fedex_client, "easypost": easypost_client}
    return clients[api](key, base_url=url, **opts)


def open_parcels(engine: Engine, carrier: str, as_of: dt.date) -> list[str]:
    """Manifested parcels of ``carrier`` shipped in the last PULL_WINDOW_DAYS (up to ``as_of``) with
    no scan in a final state yet, oldest first."""
    since = as_of - dt.timedelta(days=PULL_WINDOW_DAYS)
    finals = ", ".join(f"'{s}'" for s in FINAL_STATUSES)   # constants, not input
    q = text(
        "SELECT s.tracking_number FROM shipment s WHERE s.carrier = :c AND s.manifested = :t "
        "AND s.ship_date IS NOT NULL AND s.ship_date >= :since AND s.ship_date <= :as_of "
        "AND NOT EXISTS (SELECT 1 FROM scan_event e WHERE e.carrier = s.carrier "
        f"AND e.tracking_number = s.tracking_number AND e.status IN ({finals})) "
        "ORDER BY s.ship_date, s.tracking_number")
    with engine.connect() as conn:
        rows = conn.execute(q, {"c": carrier, "t": True, "since": since, "as_of": as_of}).fetchmany(PULL_LIMIT)
    return [r[0] for r in rows]


def merge(results: list[ReadResult]) -> ReadResult | None:
    """One ReadResult for a batch of answers (one ``ingested_file`` row per batch, not per parcel)."""
    if not results:
        return None
    frames = [r.frame for r in results if len(r.frame)]
    with warnings.catch_warnings():   # pandas warns about all-NA columns in concat; the columns are fixed
        warnings.simplefilter("ignore", FutureWarning)
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames or [results[0].frame])[0]
    codes: Counter[str] = Counter()
    for r in results:
        codes.update(r.unknown_codes)
    return ReadResult(format=results[0].format, frame=frame, read=sum(r.read for r in results),
                      errors=[e for r in results for e in r.errors], unknown_codes=codes,
                      notes=[n for r in results for n in r.notes])


def store_pulled(engine: Engine, carrier: str, result: ReadResult, contracts: ContractSet | None,
                 at: dt.datetime) -> FileSummary:
    """Store one pulled answer as scans, in one transaction, recorded in ``ingested_file`` as
    ``pull:<source>:<carrier>`` (idempotent like any scan file)."""
    label = f"pull:{result.format}:{carrier}"
    summary = FileSummary(path=label, kind="scans", format=result.format, read=result.read,
                          errors=list(result.errors), unknown_codes=result.unknown_codes)
    digest = hashlib.sha256(f"{label}:{at.isoformat()}".encode()).hexdigest()
    with engine.begin() as conn:
        fid = _file_row(conn, label, digest, "scans", result.format, at)  # type: ignore[arg-type]
        _store_scans(conn, result, fid, summary, contracts)
        summary.rejected = len(summary.errors)
        _finish_file_row(conn, fid, summary)
    return summary
