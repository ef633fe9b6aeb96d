"""The one migration history brings SQLite and PostgreSQL to the models' schema."""

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import syndicator.models  # noqa: F401
from syndicator.migrate import alembic_config


async def test_migrations_create_every_table_at_head(db, database_url) -> None:
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        head = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    assert set(SQLModel.metadata.tables) <= tables
    assert head == ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def test_models_and_migrations_agree(database_url) -> None:
    command.check(alembic_config(database_url))  # raises when a model change has no migration


async def test_one_active_account_per_platform_per_unit_is_a_database_rule(db) -> None:
    from sqlalchemy.exc import IntegrityError

    from syndicator.models import ChannelAccount, Unit

    async with db.transaction() as session:
        unit = Unit(name="某县人民政府", level="county")
        session.add(unit)
        await session.flush()
        session.add(ChannelAccount(unit_id=unit.id, platform="weibo", name="a"))
        session.add(ChannelAccount(unit_id=unit.id, platform="weibo", name="b", status="archived"))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(ChannelAccount(unit_id=unit.id, platform="weibo", name="c"))
