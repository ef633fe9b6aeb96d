"""The one way adapters make outbound HTTP calls.

httpx's default transport (httpcore) burns ~3 ms CPU per request under concurrency
(encode/httpx#3215); httpx over aiohttp's transport is ~8x faster on this machine, so every
adapter shares one such client per worker process.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from channels.base import ChannelError, OutcomeUnknownError, TransientError


def make_http_client(timeout_seconds: float = 15.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AiohttpTransport(),
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
    )


def never_sent(exc: httpx.HTTPError) -> bool:
    """Only a connection that was never established proves the request did not leave.

    httpx-aiohttp maps aiohttp's ServerDisconnectedError (a connection dropped after sending) to
    httpx.ConnectTimeout, so the aiohttp cause is what decides, not the httpx class.
    """
    cause = exc.__cause__
    if cause is not None:
        return isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def transport_error(
    exc: httpx.HTTPError, platform: str, *, what: str, idempotent: bool = False
) -> ChannelError:
    """Map a failed HTTP exchange onto the channel error taxonomy.

    A request that may have reached the platform is outcome-unknown unless repeating it is safe.
    """
    message = f"{what}: {type(exc).__name__}: {exc}"
    if idempotent or never_sent(exc):
        return TransientError(message, code="transport", platform=platform)
    return OutcomeUnknownError(message, code="transport", platform=platform)
