"""Database engine, sessions and the unit of work.

The caller owns the transaction: services take a session and never commit; a route dependency,
a job or a CLI command opens `db.transaction()`, which commits on success and rolls back on error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def open_database(url: str, *, echo: bool = False) -> Database:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _serialise_sqlite_writers(engine)
    else:
        # No pre-ping: it costs a round trip per transaction. A connection that died is invalidated
        # on its first error, and every job retries on database errors.
        engine = create_async_engine(url, echo=echo, pool_size=5, max_overflow=10, pool_recycle=1800)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    return Database(engine=engine, sessions=sessions)


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    """Make SQLite safe for several worker processes.

    WAL lets readers run beside the writer. `BEGIN IMMEDIATE` takes the write lock up front: with
    SQLite's default deferred transactions, two processes that both read and then write deadlock
    and one fails at once with "database is locked" instead of waiting out busy_timeout.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
