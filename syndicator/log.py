"""structlog setup. Secrets never reach a log line (issue 12 finding 2).

- every value of every event is redacted (channels.redaction: known secret values, secret-named
  fields and parameters, URL queries), and a secret-named key's value is masked whole;
- exceptions are rendered as plain text tracebacks, never with local variables (the console
  renderer's default rich formatter prints them: one `log.exception` dumped account secrets),
  and the traceback text is redacted like any other value;
- stdlib logging (uvicorn, arq, aiogram, httpx) is redacted as each record is made.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from channels.redaction import redact, redact_value


def redact_event(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: runs after `format_exc_info`, so the traceback text is redacted too."""
    return redact_value(dict(event))


class _Stderr:
    """Whatever sys.stderr is when a line is written: test runners and CliRunner swap it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    # Logs go to stderr, whatever the command: stdout is the command's output (`--json` pipes into jq).
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    install_stdlib_redaction()
    # httpx logs every request URL at INFO, and WeChat puts access_token in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # Plain text, without locals, before redaction: nothing after this sees an exception object.
            structlog.processors.format_exc_info,
            redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        # _Stderr has only the write/flush that PrintLogger calls, not all of TextIO.
        logger_factory=structlog.PrintLoggerFactory(_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


_default_factory = logging.getLogRecordFactory()


def _redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _default_factory(*args, **kwargs)
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):  # uvicorn's access log formats its args itself: keep the tuple
        record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
    elif isinstance(record.args, dict):
        record.args = redact_value(record.args)
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def install_stdlib_redaction() -> None:
    """Every stdlib log record, whatever handler later formats it, is redacted when made."""
    logging.setLogRecordFactory(_redacted_record)
