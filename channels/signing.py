"""The HMAC signature scheme shared by the ingest webhook, the app comments push and the app channel.

Headers `X-Syndicator-Timestamp: <unix seconds>` and
`X-Syndicator-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{METHOD}.{path}.{raw body}")>`.
The method and the path (without the query) are signed so that a signature made for one request
cannot be replayed against another route (a refused POST must not become a DELETE).
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Syndicator-Timestamp"
SIGNATURE_HEADER = "X-Syndicator-Signature"
_PREFIX = "sha256="


class SignatureError(Exception):
    """The request is not signed by someone holding the secret, or not recently."""


def signing_string(timestamp: int, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}.{method.upper()}.{path}.".encode() + body


def sign(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), signing_string(timestamp, method, path, body), hashlib.sha256)
    return _PREFIX + mac.hexdigest()


def signed_headers(
    secret: str, method: str, path: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, method, path, body)}


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    method: str,
    path: str,
    body: bytes,
    *,
    tolerance_seconds: int,
    now: float | None = None,
) -> None:
    if not secret:
        raise SignatureError("no shared secret is configured")
    timestamp = check_timestamp(timestamp_header, signature_header, tolerance_seconds, now)
    if not matches(secret, timestamp, signature_header or "", method, path, body):
        raise SignatureError("signature does not match the request")


def check_timestamp(
    timestamp_header: str | None,
    signature_header: str | None,
    tolerance_seconds: int,
    now: float | None = None,
) -> int:
    """The signed timestamp, if both headers are there and it is recent."""
    if not timestamp_header or not signature_header:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    if not timestamp_header.isascii() or not timestamp_header.strip().isdigit():
        raise SignatureError(f"{TIMESTAMP_HEADER} must be unix seconds")
    timestamp = int(timestamp_header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError(f"stale signature: timestamp is more than {tolerance_seconds} s from now")
    return timestamp


def matches(secret: str, timestamp: int, signature_header: str, method: str, path: str, body: bytes) -> bool:
    expected = sign(secret, timestamp, method, path, body)
    return bool(secret) and hmac.compare_digest(expected.encode(), signature_header.strip().encode())
