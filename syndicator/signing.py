"""The HMAC signature scheme shared by the ingest webhook and the app channel push.

Header `X-Syndicator-Timestamp: <unix seconds>` and
`X-Syndicator-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>`.
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


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return _PREFIX + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    *,
    tolerance_seconds: int,
    now: float | None = None,
) -> None:
    if not secret:
        raise SignatureError("no shared secret is configured (SYNDICATOR_INGEST_SECRET)")
    if not timestamp_header or not signature_header:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be unix seconds") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError(f"stale signature: timestamp is more than {tolerance_seconds} s from now")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature_header.strip()):
        raise SignatureError("signature does not match the body")
