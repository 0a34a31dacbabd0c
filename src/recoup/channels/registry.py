"""The channel factory: ``channel_for`` builds the channel that files a carrier's claims.

The three channels (``api``, ``email``, ``file``) are one module each, like httpx's transports;
the carrier comes from :data:`recoup.carriers.registry.REGISTRY`.
"""

from __future__ import annotations

import datetime as dt
import random
import ssl
import time
from collections.abc import Callable

import httpx

from recoup.carriers.registry import get_carrier
from recoup.channels.api import ApiChannel
from recoup.channels.base import Channel, ChannelConfig
from recoup.channels.email import EmailChannel, SmtpFactory
from recoup.channels.file import FileChannel
from recoup.channels.transport import Clock, Sleep
from recoup.errors import ConfigError


def channel_for(
    carrier_code: str,
    config: ChannelConfig,
    *,
    http_transport: httpx.BaseTransport | None = None,
    sleep: Sleep | None = None,
    monotonic: Clock | None = None,
    rng: random.Random | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    smtp_factory: SmtpFactory | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Channel:
    """The channel filing ``carrier_code``'s claims: ``config.channel``, else the carrier's default.

    Raises ConfigError (one line naming the setting) for an unknown carrier or channel, or a
    channel missing what it needs. The keyword arguments are seams for tests and the demo:
    ``http_transport`` (an httpx transport, e.g. MockTransport), ``sleep``/``monotonic``/``rng``
    (retry waits), ``clock`` (file names, e-mail dates), ``smtp_factory``/``ssl_context`` (SMTP).
    Build one channel per carrier per run: its rate limiter and pause state live in it.
    """
    carrier = get_carrier(carrier_code)
    name = config.channel or carrier.default_channel
    if clock is None and config.clock is not None:
        clock = config.clock.now      # the run's clock (a replay names files and dates mails on its day)
    if name == "api":
        return ApiChannel(carrier, config, http_transport=http_transport, sleep=sleep or time.sleep,
                          monotonic=monotonic or time.monotonic, rng=rng)
    if name == "email":
        return EmailChannel(carrier, config, clock=clock, smtp_factory=smtp_factory, ssl_context=ssl_context)
    if name == "file":
        return FileChannel(carrier, config, clock=clock)
    raise ConfigError(f"{carrier.name}: unknown channel {name!r} (api, email or file)")
