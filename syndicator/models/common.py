"""Column types shared by all tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from channels.redaction import redact, redact_value


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL keeps `timestamptz`; SQLite has no zone, so values are stored as naive UTC and
    given their zone back on the way out. Naive datetimes are refused: they caused whole classes
    of scheduling bugs in peer tools (Postiz #1954).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RedactedText(TypeDecorator[str]):
    """Text that may quote an error or a message: secrets (and, for error texts, URL queries) are
    removed on the way in and on the way out (rows written before redaction existed come out clean
    too). `queries=False` for chat messages, whose links must keep working."""

    impl = Text
    cache_ok = True

    def __init__(self, *, queries: bool = True) -> None:
        super().__init__()
        self.queries = queries

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else redact(value, queries=self.queries)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else redact(value, queries=self.queries)


class RedactedJSON(TypeDecorator[Any]):
    """JSON details (audit rows) with every string redacted and secret-named keys masked."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return redact_value(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return redact_value(value)
