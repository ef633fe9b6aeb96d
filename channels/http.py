"""The one way adapters make outbound HTTP calls.

httpx's default transport (httpcore) burns ~3 ms CPU per request under concurrency
(encode/httpx#3215); httpx over aiohttp's transport is ~8x faster on this machine, so every
adapter shares one such client per worker process.
"""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from channels import fetch
from channels.base import ChannelError, OutcomeUnknownError, PermanentError, TransientError
from channels.redaction import redact

# Everything a call over the network can raise besides an answer: httpx's own errors, aiohttp's
# (httpx-aiohttp lets some through unmapped, e.g. ClientResponseError), timeouts, socket errors.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    httpx.HTTPError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
    fetch.FetchError,
)


def make_http_client(timeout_seconds: float = 15.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AiohttpTransport(),
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
    )


def never_sent(exc: BaseException) -> bool:
    """Only a connection that was never established proves the request did not leave.

    httpx-aiohttp maps aiohttp's ServerDisconnectedError (a connection dropped after sending) to
    httpx.ConnectTimeout, so the aiohttp cause is what decides, not the httpx class.
    """
    refused = aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError | ConnectionRefusedError
    if isinstance(exc, refused):
        return True
    cause = exc.__cause__
    if isinstance(exc, httpx.HTTPError) and cause is not None:
        return isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def transport_error(
    exc: BaseException, platform: str, *, what: str, idempotent: bool = False
) -> ChannelError:
    """THE mapping of a failed network exchange (any of TRANSPORT_ERRORS) onto the channel errors.

    A request that may have reached the platform is outcome-unknown unless repeating it is safe.
    A content fetch that was refused (unsafe address, too large, not an image, 4xx) is permanent.
    The message is redacted: no secret and no URL query reaches a stored or shown error.
    """
    message = redact(f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, fetch.FetchError):
        server_trouble = isinstance(exc, fetch.BadAnswer) and exc.status >= 500
        if isinstance(exc, fetch.Unreachable | fetch.NameNotResolved) or server_trouble:
            return TransientError(message, code="fetch", platform=platform)
        return PermanentError(message, code="fetch_refused", platform=platform)
    if idempotent or never_sent(exc):
        return TransientError(message, code="transport", platform=platform)
    return OutcomeUnknownError(message, code="transport", platform=platform)
