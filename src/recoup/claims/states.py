"""The names of the claim states (:mod:`recoup.claims.lifecycle` has the machine): a module with no
imports, so that the CLI can list them in its help without loading the store."""

from __future__ import annotations

from recoup.vocabulary import CLAIM_STATUSES

UNFILED = ("ready", "needs_attention")
FILED = ("submitting", "submitted", "in_review", "prepared", "approved", "approved_partial", "rejected")
FINAL = ("credited", "expired", "cancelled", "rejected")
ALL = CLAIM_STATUSES
