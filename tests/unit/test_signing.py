import pytest

from channels.signing import SignatureError, sign, signed_headers, signing_string, verify

SECRET = "s3cret"
BODY = b'{"title": "x"}'
PATH = "/api/v1/articles"


def test_a_body_signed_now_verifies() -> None:
    headers = signed_headers(SECRET, "POST", PATH, BODY, now=1_000_000)
    verify(
        SECRET,
        headers["X-Syndicator-Timestamp"],
        headers["X-Syndicator-Signature"],
        "POST",
        PATH,
        BODY,
        tolerance_seconds=300,
        now=1_000_100,
    )


def test_the_signing_string_is_timestamp_method_path_and_body() -> None:
    assert signing_string(7, "post", PATH, BODY) == b"7.POST./api/v1/articles." + BODY


def test_signature_covers_timestamp_method_path_and_body() -> None:
    one = sign(SECRET, 1, "POST", PATH, BODY)
    assert one != sign(SECRET, 2, "POST", PATH, BODY)
    assert one != sign(SECRET, 1, "POST", PATH, BODY + b" ")
    assert one != sign(SECRET, 1, "DELETE", PATH, BODY)
    assert one != sign(SECRET, 1, "POST", PATH + "/11", BODY)
    assert one.startswith("sha256=")


def test_a_post_signature_does_not_verify_as_a_delete() -> None:
    """Finding 6: a refused POST replayed with its headers as DELETE /api/v1/articles/11."""
    headers = signed_headers(SECRET, "POST", PATH, b"", now=1_000_000)
    with pytest.raises(SignatureError, match="does not match"):
        verify(
            SECRET,
            headers["X-Syndicator-Timestamp"],
            headers["X-Syndicator-Signature"],
            "DELETE",
            PATH + "/11",
            b"",
            tolerance_seconds=300,
            now=1_000_000,
        )


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "message"),
    [
        (None, None, BODY, "missing"),
        ("yesterday", "sha256=00", BODY, "unix seconds"),
        ("1000000", sign("other", 1_000_000, "POST", PATH, BODY), BODY, "does not match"),
        ("1000000", sign(SECRET, 1_000_000, "POST", PATH, BODY), BODY + b"tampered", "does not match"),
        ("1000000", "sha256=\u00e9\u00e9", BODY, "does not match"),
        ("999000", sign(SECRET, 999_000, "POST", PATH, BODY), BODY, "stale"),
    ],
)
def test_bad_signatures_are_refused_with_a_reason(timestamp, signature, body, message) -> None:
    with pytest.raises(SignatureError, match=message):
        verify(SECRET, timestamp, signature, "POST", PATH, body, tolerance_seconds=300, now=1_000_000)


def test_no_configured_secret_refuses_everything() -> None:
    with pytest.raises(SignatureError, match="no shared secret"):
        verify("", "1", sign("", 1, "POST", PATH, BODY), "POST", PATH, BODY, tolerance_seconds=300, now=1)
