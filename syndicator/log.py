"""structlog setup. Secrets never reach a log line: known secret-bearing keys are masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = ("secret", "token", "signature", "password", "authorization", "access_token")


def _redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event:
        if any(part in key.lower() for part in _SECRET_KEYS):
            event[key] = "***"
    return event


class _Stderr:
    """Whatever sys.stderr is when a line is written: test runners and CliRunner swap it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    # Logs go to stderr, whatever the command: stdout is the command's output (`--json` pipes into jq).
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    # httpx logs every request URL at INFO, and WeChat puts access_token in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
