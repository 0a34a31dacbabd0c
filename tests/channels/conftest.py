"""Fixtures for the carrier tests: claim packets, a recording sleep, recorded EasyPost exchanges."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from recoup.channels.base import Attachment, ClaimPacket

# Copies of shared/samples/easypost/test_claim_*.json (EasyPost's recorded test exchanges).
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "easypost"

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAeUlEQVR42mP8//8/AwAI/AL+4Q7AIAAAAABJRU5ErkJggg=="
)


def recorded(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


class SleepRecorder:
    """An injectable sleep that records and does not wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_packet() -> Callable[..., ClaimPacket]:
    def make(n: int = 1, **kw: Any) -> ClaimPacket:
        values: dict[str, Any] = {
            "claim_id": n,
            "idempotency_key": f"recoup-claim-{n}-k",
            "carrier": "usps",
            "kind": "damaged",
            "tracking_number": f"94001002083031095{n:05d}",
            "amount": Decimal("100.00"),
            "currency": "USD",
            "description": f"Parcel {n} arrived crushed",
            "deadline": dt.date(2026, 12, 31),
            "ship_date": dt.date(2026, 10, 1),
            "invoice_number": f"INV-{n}",
            "account_number": "ACC-9",
            "service": "PRIORITY",
            "contact_email": "claims@merchant.example",
            "evidence": (Attachment("photo.png", "image/png", PNG),),
        }
        values.update(kw)
        return ClaimPacket(**values)

    return make
