"""Startup checks for `serve`, `worker`, `bot` and `doctor`: one line naming the setting and the fix.

A process that cannot work (unusable database URL, database unreachable or missing, schema not at
the code's migration head) refuses to start with a `StartupError`; a missing secret that only
disables one feature is a warning.
"""

from __future__ import annotations

import logging
import socket
from functools import lru_cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url

from syndicator.config import Settings
from syndicator.db import Database, open_database
from syndicator.migrate import alembic_config

UPGRADE_HINT = "run `syndicator db upgrade`"


class StartupError(Exception):
    """Why this process cannot start, in one line an operator can act on."""


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "(unparseable)"


def open_checked_database(url: str) -> Database:
    try:
        return open_database(url)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ValueError) as exc:
        raise StartupError(
            f"SYNDICATOR_DATABASE_URL={safe_url(url)} is not a usable database URL ({exc}); use "
            "postgresql://USER:PASSWORD@HOST:5432/DBNAME or sqlite:///./syndicator.db"
        ) from None


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The migration heads this code needs (read once: they change only with the code)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


async def schema_revisions(db: Database) -> set[str]:
    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)  # "Context impl …" lines

    async with db.engine.connect() as connection:
        return await connection.run_sync(current)


async def check_database(db: Database, url: str) -> None:
    """Raise StartupError unless the database answers and its schema is at the migration head."""
    try:
        current = await schema_revisions(db)
    except Exception as exc:  # every driver's error becomes one line
        raise StartupError(describe_database_error(exc, url)) from None
    if schema_problem := describe_schema(current, head_revisions()):
        raise StartupError(schema_problem)


def describe_schema(current: set[str], heads: frozenset[str]) -> str | None:
    if current == heads:
        return None
    if not current:
        return f"the database has no schema yet; {UPGRADE_HINT}"
    return (
        f"the database schema is at {', '.join(sorted(current))}, this code needs "
        f"{', '.join(sorted(heads))}; {UPGRADE_HINT}"
    )


def describe_database_error(exc: BaseException, url: str) -> str:
    """One line for a database that cannot be used, whatever the driver raised."""
    cause = _root(exc)
    name = type(cause).__name__
    target = safe_url(url)
    if name == "InvalidCatalogNameError":
        database = make_url(url).database
        return (
            f"database {database!r} does not exist ({target}); create it (createdb {database}) "
            "or fix SYNDICATOR_DATABASE_URL"
        )
    if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
        return f"the database refused the user or password in SYNDICATOR_DATABASE_URL ({target}): {cause}"
    if isinstance(cause, socket.gaierror):
        return f"the database host in SYNDICATOR_DATABASE_URL ({target}) does not resolve: {cause}"
    if isinstance(cause, ConnectionRefusedError | TimeoutError | OSError):
        return (
            f"cannot reach the database at {target} ({name}: {cause}); is it running? "
            "check SYNDICATOR_DATABASE_URL"
        )
    if name == "OperationalError" and "unable to open database file" in str(cause):
        return f"cannot open the SQLite file {target}; does its directory exist? (SYNDICATOR_DATABASE_URL)"
    return f"the database at {target} cannot be used ({name}: {cause}); check SYNDICATOR_DATABASE_URL"


def _root(exc: BaseException) -> BaseException:
    """SQLAlchemy wraps the driver's exception; the driver's says what happened."""
    seen = exc
    while True:
        inner = getattr(seen, "orig", None) or seen.__cause__
        if inner is None or inner is seen:
            return seen
        seen = inner


def missing_secrets(settings: Settings, process: str) -> list[str]:
    """Warnings for secrets whose absence disables a feature of `process` (serve | worker | bot)."""
    ingest = settings.ingest_secret.get_secret_value()
    callback = settings.wechat_callback_token.get_secret_value()
    session = settings.dashboard_session_secret.get_secret_value() or ingest
    chat = settings.moderation_chat_id is not None
    by_process: dict[str, list[tuple[str, str | bool, str]]] = {
        "serve": [
            ("SYNDICATOR_INGEST_SECRET", ingest, "every portal webhook will be refused (401)"),
            (
                "SYNDICATOR_WECHAT_CALLBACK_TOKEN",
                callback,
                "WeChat pushes refused; publishing is polled",
            ),
            ("SYNDICATOR_DASHBOARD_SESSION_SECRET", session, "dashboard sessions end when the API restarts"),
        ],
        "worker": [("SYNDICATOR_MODERATION_CHAT_ID", chat, "failures and comment cards reach no chat")],
        "bot": [("SYNDICATOR_MODERATION_CHAT_ID", chat, "the bot has no moderators' chat to post cards to")],
    }
    wanted = by_process[process]
    return [f"{name} is not set: {effect}" for name, present, effect in wanted if not present]


async def preflight(settings: Settings) -> None:
    """The database checks every long-running process makes before it starts."""
    db = open_checked_database(settings.database_url)
    try:
        await check_database(db, settings.database_url)
    finally:
        await db.dispose()
