"""What loading one file did: read, stored, duplicates, rejected rows (file, line, reason), a refusal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from recoup.ingest.base import RowError


@dataclass
class FileSummary:
    path: str
    kind: str
    format: str | None = None
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    refused: str | None = None
    unknown_codes: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    invoices: list[tuple[str, str]] = field(default_factory=list)   # (carrier, invoice_number) loaded

    @property
    def ok(self) -> bool:
        return self.refused is None and self.rejected == 0

    def as_dict(self) -> dict[str, Any]:
        errs = [e.as_dict() for e in self.errors]
        if self.refused:
            errs.insert(0, {"line": None, "column": None, "reason": self.refused})
        d: dict[str, Any] = {
            "path": self.path, "format": self.format, "read": self.read, "stored": self.stored,
            "duplicates": self.duplicates, "rejected": self.rejected, "errors": errs,
        }
        if self.updated:
            d["updated"] = self.updated
        if self.refused:
            d["refused"] = self.refused
        if self.unknown_codes:
            d["unknown_codes"] = dict(sorted(self.unknown_codes.items()))
        if self.notes:
            d["notes"] = self.notes
        return d

