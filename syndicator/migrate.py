"""Apply the Alembic migrations programmatically (`syndicator db upgrade`, tests, demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates %: a URL-encoded password would otherwise break it.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def revisions_between(before: set[str], after: set[str]) -> list[str]:
    """'0005 obligation report indexes', … : the migrations that took the schema from before to after."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    upper = tuple(after) or None
    lower = tuple(before) or None
    applied = [r for r in script.iterate_revisions(upper, lower) if r.revision not in before]
    return [f"{r.revision} {(r.doc or '').splitlines()[0]}" for r in reversed(applied)]
