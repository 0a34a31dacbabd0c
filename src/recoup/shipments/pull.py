"""Pulling tracking from the sources' APIs: one client per source, build and parse pure.

=========  ===============================================================  ==================
source     request                                                          answer parsed by
=========  ===============================================================  ==================
EasyPost   ``GET /v2/trackers/{id}`` for a tracker id (``trk_...``), else      ``easypost``
           ``GET /v2/trackers?tracking_code=...`` (optionally ``carrier``)
FedEx      ``POST /track/v1/trackingnumbers``, up to 30 numbers a request     ``fedex_track``
UPS        ``GET /api/track/v1/details/{inquiryNumber}``                     ``ups_track``
=========  ===============================================================  ==================

``build`` makes the :class:`httpx.Request` and ``parse`` turns the decoded JSON answer into a
:class:`ReadResult` with the reader of that source: both are pure. Sending is
:meth:`recoup.channels.transport.Transport.send`, the project's one sender: it owns the
``httpx.Client``, the per-request timeout, the per-client rate limit (requests per second), and the
tenacity retries on 429 (honouring ``Retry-After``), 5xx, timeouts and connection errors, with
exponential backoff and jitter; its ``sleep`` is injectable, so tests do not wait. EasyPost's API
key is sent as HTTP basic auth by the transport; FedEx and UPS take an OAuth bearer token (getting
one is the caller's business: ``access_token``).

:func:`pull` skips nothing silently: it returns one ReadResult per request, and a number that the
answer does not cover, that the source does not know (a 4xx), or that could not be asked because
the source stayed unavailable after the retries, is a row error naming the number. Only an
authentication failure (401/403: :class:`CarrierAuthError`) is raised, since every later request
would fail the same way and a person must look.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from recoup.channels.transport import Transport
from recoup.errors import CarrierAuthError, FatalCarrierError, RetryableCarrierError
from recoup.ingest.base import SCAN_COLUMNS, ReadResult, RowError
from recoup.shipments import easypost, fedex_track, ups_track
from recoup.shipments.codes.jsonscans import dig, scan_frame, text

EASYPOST_URL = "https://api.easypost.com"
FEDEX_URL = "https://apis.fedex.com"
UPS_URL = "https://onlinetools.ups.com"
FEDEX_BATCH = 30   # FedEx Track accepts up to 30 tracking numbers per request

__all__ = [
    "EASYPOST_URL", "FEDEX_URL", "UPS_URL", "EasyPostTracking", "FedExTracking", "TrackingClient",
    "UPSTracking", "easypost_request", "fedex_request", "pull", "ups_request",
]


# -- pure request builders ---------------------------------------------------------------------

def easypost_request(tracking: str, *, base_url: str = EASYPOST_URL, carrier: str | None = None) -> httpx.Request:
    """A tracker by id (``trk_...``) or the trackers of a tracking code (optionally one carrier)."""
    base = base_url.rstrip("/")
    if tracking.startswith("trk_"):
        return httpx.Request("GET", f"{base}/v2/trackers/{quote(tracking, safe='')}")
    params = {"tracking_code": tracking}
    if carrier:
        params["carrier"] = carrier
    return httpx.Request("GET", f"{base}/v2/trackers", params=params)


def fedex_request(numbers: Sequence[str], *, access_token: str, base_url: str = FEDEX_URL) -> httpx.Request:
    body = {
        "includeDetailedScans": True,
        "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers],
    }
    return httpx.Request(
        "POST", f"{base_url.rstrip('/')}/track/v1/trackingnumbers", json=body,
        headers={"Authorization": f"Bearer {access_token}", "X-locale": "en_US"},
    )


def ups_request(number: str, *, access_token: str, trans_id: str, base_url: str = UPS_URL) -> httpx.Request:
    return httpx.Request(
        "GET", f"{base_url.rstrip('/')}/api/track/v1/details/{quote(number, safe='')}",
        params={"locale": "en_US", "returnSignature": "false"},
        headers={"Authorization": f"Bearer {access_token}", "transId": trans_id[:32],
                 "transactionSrc": "recoup"},
    )


# -- clients -----------------------------------------------------------------------------------

@dataclass
class TrackingClient:
    """One source's tracking client. Subclasses implement ``build`` and ``parse`` (pure)."""

    transport: Transport
    base_url: str
    source: str = ""
    batch_size: int = 1

    def build(self, numbers: Sequence[str]) -> httpx.Request:
        raise NotImplementedError

    def parse(self, numbers: Sequence[str], body: Any) -> ReadResult:
        raise NotImplementedError

    def send(self, request: httpx.Request) -> Any:
        """Send with the transport's timeouts, rate limit and retries; the decoded JSON answer."""
        return self.transport.send(request)


@dataclass
class EasyPostTracking(TrackingClient):
    carrier: str | None = None   # EasyPost carrier name to narrow a tracking-code search
    source: str = "easypost"

    def build(self, numbers: Sequence[str]) -> httpx.Request:
        (number,) = numbers
        return easypost_request(number, base_url=self.base_url, carrier=self.carrier)

    def parse(self, numbers: Sequence[str], body: Any) -> ReadResult:
        result = easypost.parse_documents([(1, body)], require_trackers=False)
        trackers = body.get("trackers") if isinstance(body, Mapping) and "trackers" in body else [body]
        seen = {text(dig(t, key)) for t in trackers or [] for key in ("id", "tracking_code")}
        return _missing(result, numbers, seen, "EasyPost has no tracker for it")


@dataclass
class FedExTracking(TrackingClient):
    access_token: str = ""
    source: str = "fedex"
    batch_size: int = FEDEX_BATCH

    def build(self, numbers: Sequence[str]) -> httpx.Request:
        return fedex_request(numbers, access_token=self.access_token, base_url=self.base_url)

    def parse(self, numbers: Sequence[str], body: Any) -> ReadResult:
        result = fedex_track.parse_documents([(1, body)], require_results=False)
        seen = {text(dig(c, "trackingNumber")) for c in dig(body, "output", "completeTrackResults") or []}
        return _missing(result, numbers, seen, "not in FedEx's answer")


@dataclass
class UPSTracking(TrackingClient):
    access_token: str = ""
    source: str = "ups"
    trans_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    def build(self, numbers: Sequence[str]) -> httpx.Request:
        (number,) = numbers
        return ups_request(number, access_token=self.access_token, trans_id=self.trans_id(),
                           base_url=self.base_url)

    def parse(self, numbers: Sequence[str], body: Any) -> ReadResult:
        result = ups_track.parse_documents([(1, body)], require_results=False)
        seen = {text(dig(s, "inquiryNumber")) for s in dig(body, "trackResponse", "shipment") or []}
        return _missing(result, numbers, seen, "not in UPS's answer")


def easypost_client(api_key: str, *, base_url: str = EASYPOST_URL, carrier: str | None = None,
                    **transport_options: Any) -> EasyPostTracking:
    """``transport_options``: Transport's keywords (timeout_s, rate_limit_per_s, max_attempts,
    backoff_initial_s, backoff_max_s, max_wait_s, sleep, monotonic, rng, http_transport)."""
    return EasyPostTracking(Transport(carrier="easypost", api_key=api_key, **transport_options),
                            base_url=base_url, carrier=carrier)


def fedex_client(access_token: str, *, base_url: str = FEDEX_URL, **transport_options: Any) -> FedExTracking:
    return FedExTracking(Transport(carrier="fedex", api_key=None, **transport_options),
                         base_url=base_url, access_token=access_token)


def ups_client(access_token: str, *, base_url: str = UPS_URL, **transport_options: Any) -> UPSTracking:
    return UPSTracking(Transport(carrier="ups", api_key=None, **transport_options),
                       base_url=base_url, access_token=access_token)


# -- pulling -----------------------------------------------------------------------------------

def pull(client: TrackingClient, tracking_numbers: Iterable[str]) -> list[ReadResult]:
    """Ask ``client``'s source about each tracking number; one ReadResult per request.

    Nothing is skipped silently: see the module docstring. Repeated or blank numbers are asked once
    (blank ones not at all). Raises CarrierAuthError on 401/403.
    """
    numbers = list(dict.fromkeys(n.strip() for n in tracking_numbers if n and n.strip()))
    size = max(1, client.batch_size)
    batches = [numbers[i:i + size] for i in range(0, len(numbers), size)]
    results: list[ReadResult] = []
    with client.transport.session():
        for index, batch in enumerate(batches):
            request = client.build(batch)
            try:
                body = client.send(request)
            except CarrierAuthError:
                raise
            except FatalCarrierError as exc:
                results.append(_failed(client.source, batch, str(exc)))
                continue
            except RetryableCarrierError as exc:
                for rest in batches[index:]:
                    results.append(_failed(client.source, rest, f"not pulled, try again later: {exc}"))
                break
            results.append(client.parse(batch, body))
    return results


def _failed(source: str, numbers: Sequence[str], reason: str) -> ReadResult:
    return ReadResult(format=source, frame=scan_frame([]), read=0,
                      errors=[RowError(line=None, column="tracking_number", reason=f"{n}: {reason}")
                              for n in numbers])


def _missing(result: ReadResult, numbers: Sequence[str], seen: set[str | None], reason: str) -> ReadResult:
    for n in numbers:
        if n not in seen:
            result.errors.append(RowError(line=None, column="tracking_number", reason=f"{n}: {reason}"))
    assert list(result.frame.columns) == SCAN_COLUMNS
    return result
