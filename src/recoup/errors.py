"""One exception tree for recoup.

::

    RecoupError                      anything recoup reports as a one-line message (exit 1)
    ├── ConfigError                  a bad setting or contract: names the file/key and the reason (fatal)
    ├── InputError                   a file or row that cannot be read
    │   └── FileRefused              a whole file refused, with the reason (fatal for that file only)
    ├── StoreError                   the database is missing, locked or of another version
    └── CarrierError                 talking to a carrier went wrong
        ├── RetryableCarrierError    timeouts, connection errors, 429, 5xx: try again later
        └── FatalCarrierError        4xx: a person must look (needs_attention)
            └── CarrierAuthError     401/403: the carrier's channel is paused

Business outcomes (a rejected claim, a late parcel) are values, never exceptions.
"""

from __future__ import annotations


class RecoupError(Exception):
    """Base: the message is one line for a person."""


class ConfigError(RecoupError):
    pass


class InputError(RecoupError):
    pass


class FileRefused(InputError):
    """A whole file refused, with the reason."""


class StoreError(RecoupError):
    pass


class CarrierError(RecoupError):
    pass


class RetryableCarrierError(CarrierError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalCarrierError(CarrierError):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class CarrierAuthError(FatalCarrierError):
    pass


def driver_message(e: BaseException, default: str = "") -> str:
    """The first line of what the database driver said (the DBAPI error SQLAlchemy wraps in ``orig``),
    else of ``e``: "database is locked", "connection refused", for a one-line message."""
    return (str(getattr(e, "orig", None) or e).strip().splitlines() or [default])[0]

