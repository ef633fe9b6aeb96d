"""Issue 12 finding 2: the one redaction function, and the log pipeline that applies it."""

from __future__ import annotations

import collections
import logging
import sys

import structlog

from channels.base import AccountConfig, Platform
from channels.redaction import MASK, redact, redact_value, register_secret, register_secret_environment
from syndicator.config import Settings
from syndicator.log import configure_logging, install_stdlib_redaction, redact_event


def test_known_values_fields_parameters_and_url_queries_are_removed() -> None:
    register_secret("the-app-secret-1")
    text = (
        "POST https://api.weixin.qq.com/cgi-bin/draft/add?access_token=TOK&type=1 failed; "
        'body {"appid": "wx1", "secret": "s3cr3t"} form signature=sha256=ab&x=1 '
        "Authorization: Bearer syn_abcdef and the-app-secret-1 again"
    )
    clean = redact(text)
    for leaked in ("TOK", "s3cr3t", "sha256=ab", "syn_abcdef", "the-app-secret-1"):
        assert leaked not in clean
    assert "https://api.weixin.qq.com/cgi-bin/draft/add?" + MASK in clean and '"appid": "wx1"' in clean


def test_nested_values_and_secret_named_keys() -> None:
    value = {"token": "abc", "detail": ["x?access_token=1"], "n": 3, "client_secret": ""}
    expected = {"token": MASK, "detail": ["x?access_token=" + MASK], "n": 3, "client_secret": ""}
    assert redact_value(value) == expected
    point = collections.namedtuple("point", "x y")(1, "x?access_token=1")
    assert redact_value({"p": point}) == {"p": (1, "x?access_token=" + MASK)}


def test_settings_account_and_environment_secrets_are_registered(monkeypatch) -> None:
    Settings(ingest_secret="ingest-shared-secret", telegram_token="42:telegram-token-value")
    AccountConfig(account_id=1, platform=Platform.APP, name="a", api_base_url="x", secret="account-secret-v")
    monkeypatch.setenv("HUAIHUA_APP_SECRET", "env-app-secret-value")
    register_secret_environment()
    text = "ingest-shared-secret 42:telegram-token-value account-secret-v env-app-secret-value"
    assert redact(text) == " ".join([MASK] * 4)


def test_tracebacks_are_plain_without_locals_and_redacted() -> None:
    configure_logging()
    config = structlog.get_config()
    processors = config["processors"]
    assert processors.index(structlog.processors.format_exc_info) < processors.index(redact_event)
    assert processors[-1]._exception_formatter is structlog.dev.plain_traceback  # no rich locals

    def failing(secret: str = "local-secret-value-1") -> None:
        raise ValueError("call https://x.example/a?access_token=in-the-message failed")

    try:
        failing()
    except ValueError:
        event = {"event": "publish_unexpected_error", "exc_info": sys.exc_info()}
    register_secret("local-secret-value-1")
    for processor in processors:
        event = processor(None, "error", event)
    assert "Traceback" in event and "local-secret-value-1" not in event and "in-the-message" not in event


def test_stdlib_records_are_redacted_when_made() -> None:
    install_stdlib_redaction()
    args = ("1.2.3.4", "GET", "/cb?signature=abc&n=1")
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s "%s %s"', args, None
    )
    assert "abc" not in record.getMessage() and isinstance(record.args, tuple)
