import pytest

from syndicator.signing import SignatureError, sign, signed_headers, verify

SECRET = "s3cret"
BODY = b'{"title": "x"}'


def test_a_body_signed_now_verifies() -> None:
    headers = signed_headers(SECRET, BODY, now=1_000_000)
    verify(
        SECRET,
        headers["X-Syndicator-Timestamp"],
        headers["X-Syndicator-Signature"],
        BODY,
        tolerance_seconds=300,
        now=1_000_100,
    )


def test_signature_covers_timestamp_and_body() -> None:
    assert sign(SECRET, 1, BODY) != sign(SECRET, 2, BODY)
    assert sign(SECRET, 1, BODY) != sign(SECRET, 1, BODY + b" ")
    assert sign(SECRET, 1, BODY).startswith("sha256=")


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "message"),
    [
        (None, None, BODY, "missing"),
        ("yesterday", "sha256=00", BODY, "unix seconds"),
        ("1000000", sign("other", 1_000_000, BODY), BODY, "does not match"),
        ("1000000", sign(SECRET, 1_000_000, BODY), BODY + b"tampered", "does not match"),
        ("999000", sign(SECRET, 999_000, BODY), BODY, "stale"),
    ],
)
def test_bad_signatures_are_refused_with_a_reason(timestamp, signature, body, message) -> None:
    with pytest.raises(SignatureError, match=message):
        verify(SECRET, timestamp, signature, body, tolerance_seconds=300, now=1_000_000)


def test_no_configured_secret_refuses_everything() -> None:
    with pytest.raises(SignatureError, match="no shared secret"):
        verify("", "1", sign("", 1, BODY), BODY, tolerance_seconds=300, now=1)
