"""The sandbox carrier server: an EasyPost-style Claims API with injectable faults.

A test and demo double, not a carrier: it lives outside ``recoup.carriers`` and production code
never imports it (``recoup sandbox`` serves it, ``recoup demo`` and the tests file claims to it).

Its contract (spec/claims.md "Its contract, so that anything can drive it"):

- ``POST /v2/claims`` (HTTP basic auth, the API key as user name; none: ``401``) creates a claim
  from ``tracking_code``, ``type``, ``amount`` (> 0), ``description``, ``contact_email`` and the
  ``*_attachments`` data-URI arrays, answering ``201`` with the Claim. Missing or bad fields:
  ``422`` with an EasyPost-style error body ``{"error": {"code", "message", "errors": [{"field",
  "message"}]}}``. An ``Idempotency-Key`` already seen answers the same claim (``201``, header
  ``Idempotent-Replayed: true``), never a second one; the same key with another tracking code,
  type or amount: ``409``.
- ``GET /v2/claims/{id}`` answers the Claim; each GET moves it one step: ``submitted`` →
  ``in_review`` → final (``approved``, ``approved_partial`` with ``approved_amount`` below the
  requested amount, or ``rejected``, drawn per claim from the ``reject``/``partial`` shares).
- ``GET /v2/claims?idempotency_key=K`` answers ``{"claims": [...], "has_more": false}``.
- ``POST /v2/claims/{id}/cancel`` cancels a claim not yet final (a final one: ``422``).
- ``GET /_sandbox/requests``: every API request received, ``[{"method", "path", "query",
  "idempotency_key", "status", "fault", "at"}]`` (``status`` null when no answer was sent);
  ``GET /_sandbox/claims``: the claims held, each with its ``idempotency_key``. These two need no
  key, get no faults and are not recorded.

Faults, e.g. ``"429=0.2,500=0.1,502=0.05,503=0.05,504=0,timeout=0.05,reset=0.02,malformed=0.02,
latency=0.2s,reject=0.1,partial=0.1,seed=7"``: each share is the probability that one API request
gets that fault (one draw per request from a generator seeded with ``seed``, so a sequential
client sees the same faults every run). ``429``/``5xx`` refuse the request before it is handled
(``429`` with ``Retry-After``, ``retry_after=1`` seconds by default). ``timeout``, ``reset`` and
``malformed`` happen *after* the request was handled, the worst case for a client: the claim was
created but the answer is lost. ``timeout`` holds the connection ``hold`` seconds (default 30)
then closes it without an answer; ``reset`` closes it abruptly (TCP RST); ``malformed`` answers
broken JSON. ``latency`` delays every API request. ``reject`` and ``partial`` decide each
claim's final status, from the seed and the claim's idempotency key.
"""

from __future__ import annotations

from recoup.sandbox.faults import REQUEST_FAULTS, Faults, parse_faults
from recoup.sandbox.server import SandboxServer, serve
from recoup.sandbox.state import ATTACHMENT_FIELDS, CLAIM_TYPES, FINAL_STATUSES, STATUS_DETAILS

__all__ = [
    "ATTACHMENT_FIELDS", "CLAIM_TYPES", "FINAL_STATUSES", "REQUEST_FAULTS", "STATUS_DETAILS", "Faults",
    "SandboxServer", "parse_faults", "serve",
]
