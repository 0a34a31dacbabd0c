"""The one place that sends HTTP to a carrier.

Channels build :class:`httpx.Request` objects (pure) and parse JSON (pure); :meth:`Transport.send`
does everything in between: owns the :class:`httpx.Client`, sets the per-request timeout, adds
HTTP basic auth (the API key as user name), waits for the per-carrier rate limiter, logs without
secrets, and applies the retry policy of spec/claims.md "Retries" with tenacity:

- retried, with exponential backoff and jitter, honouring ``Retry-After``: timeouts, connection
  errors, ``408``, ``429``, ``500``, ``502``, ``503``, ``504``, and a 2xx whose body is not JSON;
- never retried: any other status. ``401``/``403`` raise :class:`CarrierAuthError`, the rest of
  4xx (``400``, ``404``, ``409``, ``422``, ...) and other statuses :class:`FatalCarrierError`,
  with the carrier's message;
- a run never waits forever: each request has a timeout, each call at most ``max_attempts``
  attempts, no single wait longer than ``max_wait_s`` (a longer ``Retry-After`` gives up), and
  each batch a :class:`Budget` in seconds; when attempts or budget run out,
  :class:`RetryableCarrierError` (the claim is left for the next run).

Sleeping happens only in tenacity's ``sleep`` (injectable, so tests are fast) and in the rate
limiter, never in a retry predicate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import tenacity

from recoup.clock import wall_now
from recoup.errors import CarrierAuthError, FatalCarrierError, RetryableCarrierError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403})

Sleep = Callable[[float], None]
Clock = Callable[[], float]


class BudgetExhausted(RetryableCarrierError):
    """The batch's time budget ran out before this call could be (re)tried."""


def _retryable(exc: BaseException) -> bool:
    """The retry predicate: a pure check, it never sleeps."""
    return isinstance(exc, RetryableCarrierError) and not isinstance(exc, BudgetExhausted)


class Budget:
    """A batch's time budget: ``seconds`` from its creation on the given monotonic clock."""

    def __init__(self, seconds: float, *, monotonic: Clock = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self.deadline = monotonic() + seconds

    def remaining(self) -> float:
        return self.deadline - self._monotonic()

    def exhausted(self) -> bool:
        return self.remaining() <= 0


class RateLimiter:
    """At most ``per_second`` request starts per second (evenly spaced); None or <= 0: no limit."""

    def __init__(self, per_second: float | None, *, monotonic: Clock = time.monotonic) -> None:
        self.interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self._monotonic = monotonic
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Reserve the next slot; returns how long the caller must wait for it."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
            return start - now


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date. None if absent/bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or wall_now()    # an HTTP-date Retry-After is against the real time: wall clock by nature
    return max(0.0, (when - now).total_seconds())


def carrier_message(response: httpx.Response) -> str:
    """The carrier's own words from an error response (EasyPost: ``{"error": {...}}``)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] if text else response.reason_phrase
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        message = str(err.get("message") or err.get("code") or "").strip()
        details = []
        for e in err.get("errors") or []:
            if isinstance(e, dict):
                field = e.get("field")
                msg = e.get("message")
                details.append(f"{field}: {msg}" if field else str(msg))
            else:
                details.append(str(e))
        if details:
            message = f"{message} ({'; '.join(details)})" if message else "; ".join(details)
        code = err.get("code")
        if code and code not in message:
            message = f"{code}: {message}"
        return message or response.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return json.dumps(body)[:300]


class Transport:
    """Sends carrier requests for one carrier; see the module docstring for the policy.

    The client is opened on demand: inside ``with transport.session():`` one client serves every
    request (connection reuse for a batch); a ``send`` outside a session opens and closes its own.
    """

    def __init__(
        self,
        *,
        carrier: str,
        api_key: str | None,
        timeout_s: float = 20.0,
        rate_limit_per_s: float | None = 5.0,
        max_attempts: int = 5,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_wait_s: float = 60.0,
        sleep: Sleep = time.sleep,
        monotonic: Clock = time.monotonic,
        rng: random.Random | None = None,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.carrier = carrier
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._http_transport = http_transport
        self.limiter = RateLimiter(rate_limit_per_s, monotonic=monotonic)
        self._client: httpx.Client | None = None
        self._depth = 0

    def __repr__(self) -> str:  # never shows the key
        return f"Transport(carrier={self.carrier!r}, key={'set' if self._api_key else 'none'})"

    # -- client ownership ---------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        if self._depth == 0:
            auth = httpx.BasicAuth(self._api_key, "") if self._api_key else None
            self._client = httpx.Client(
                auth=auth, timeout=self.timeout_s, transport=self._http_transport,
                headers={"User-Agent": "recoup", "Accept": "application/json"},
            )
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._client is not None:
                self._client.close()
                self._client = None

    def budget(self, seconds: float) -> Budget:
        return Budget(seconds, monotonic=self._monotonic)

    # -- sending ------------------------------------------------------------------------------

    def send(self, request: httpx.Request, *, budget: Budget | None = None) -> Any:
        """Send with retries; returns the parsed JSON of a 2xx answer.

        Raises CarrierAuthError (401/403), FatalCarrierError (other non-retryable statuses),
        RetryableCarrierError when attempts or the budget run out (BudgetExhausted for the latter).
        """
        with self.session():
            return self._send_with_retries(request, budget)

    def _send_with_retries(self, request: httpx.Request, budget: Budget | None) -> Any:
        delays: dict[int, float] = {}

        def delay_for(rs: tenacity.RetryCallState) -> float:
            # Computed once per attempt and shared by `wait` and `stop` (tenacity versions differ
            # in which of the two runs first).
            n = rs.attempt_number
            if n not in delays:
                exc = rs.outcome.exception() if rs.outcome else None
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None:
                    delays[n] = float(retry_after)
                else:
                    cap = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (n - 1))
                    delays[n] = cap / 2 + self._rng.uniform(0, cap / 2)   # "equal jitter"
            return delays[n]

        stop_reason = ""

        def stop(rs: tenacity.RetryCallState) -> bool:
            nonlocal stop_reason
            if rs.attempt_number >= self.max_attempts:
                stop_reason = f"gave up after {rs.attempt_number} attempts"
            elif delay_for(rs) > self.max_wait_s:
                stop_reason = f"asked to wait {delay_for(rs):g}s, more than {self.max_wait_s:g}s"
            elif budget is not None and delay_for(rs) >= budget.remaining():
                stop_reason = f"batch budget of {budget.seconds:g}s does not allow another attempt"
            return bool(stop_reason)

        def before_sleep(rs: tenacity.RetryCallState) -> None:
            exc = rs.outcome.exception() if rs.outcome else None
            log.info("%s %s %s: attempt %d failed (%s); retrying in %.2fs", self.carrier,
                     request.method, request.url.path, rs.attempt_number, exc, delay_for(rs))

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_retryable),
            stop=stop,
            wait=delay_for,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        attempts = 0

        def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            return self._attempt(request, budget)

        try:
            return retrying(attempt)
        except BudgetExhausted:
            raise
        except RetryableCarrierError as e:
            cls = BudgetExhausted if stop_reason.startswith("batch budget") else RetryableCarrierError
            raise cls(f"{e} ({stop_reason or f'after {attempts} attempts'})",
                      retry_after=e.retry_after) from e

    def _attempt(self, request: httpx.Request, budget: Budget | None) -> Any:
        assert self._client is not None
        wait = self.limiter.reserve()
        if wait > 0:
            if budget is not None and wait >= budget.remaining():
                raise BudgetExhausted("batch budget exhausted while rate-limited")
            self._sleep(wait)
        timeout = self.timeout_s
        if budget is not None:
            remaining = budget.remaining()
            if remaining <= 0:
                raise BudgetExhausted(f"batch budget of {budget.seconds:g}s exhausted")
            timeout = min(timeout, remaining)
        request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        started = self._monotonic()
        try:
            response = self._client.send(request)
        except httpx.TimeoutException as e:
            log.warning("%s %s %s: timeout after %.1fs", self.carrier, request.method,
                        request.url.path, timeout)
            raise RetryableCarrierError(f"{self.carrier}: no answer within {timeout:g}s") from e
        except httpx.TransportError as e:
            log.warning("%s %s %s: connection error %s", self.carrier, request.method,
                        request.url.path, type(e).__name__)
            raise RetryableCarrierError(f"{self.carrier}: connection error ({type(e).__name__}: {e})") from e
        elapsed = self._monotonic() - started
        status = response.status_code
        log.info("%s %s %s -> %d in %.3fs (idempotency key %s)", self.carrier, request.method,
                 request.url.path, status, elapsed, request.headers.get("Idempotency-Key", "-"))
        if 200 <= status < 300:
            if not response.content.strip():
                return None
            try:
                return response.json()
            except ValueError as e:
                raise RetryableCarrierError(
                    f"{self.carrier}: answer {status} is not valid JSON") from e
        message = carrier_message(response)
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableCarrierError(f"{self.carrier}: {status} {message}", retry_after=retry_after)
        if status in AUTH_STATUSES:
            raise CarrierAuthError(f"{self.carrier}: {status} {message}", status_code=status)
        raise FatalCarrierError(f"{self.carrier}: {status} {message}", status_code=status)

    def close(self) -> None:
        """Nothing stays open outside a session; kept for symmetry with channels."""
