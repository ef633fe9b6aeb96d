"""The one migration history brings SQLite and PostgreSQL to the models' schema."""

import pytest
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import syndicator.models  # noqa: F401

pytestmark = pytest.mark.integration


async def test_migrations_create_every_table_at_head(db) -> None:
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        head = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    assert set(SQLModel.metadata.tables) <= tables
    assert head == "0001"


async def test_one_active_account_per_platform_per_unit_is_a_database_rule(db) -> None:
    from sqlalchemy.exc import IntegrityError

    from syndicator.models import ChannelAccount, Unit

    async with db.transaction() as session:
        unit = Unit(name="某县人民政府", level="county")
        session.add(unit)
        await session.flush()
        session.add(ChannelAccount(unit_id=unit.id, platform="weibo", name="a"))
        session.add(ChannelAccount(unit_id=unit.id, platform="weibo", name="b", status="closed"))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(ChannelAccount(unit_id=unit.id, platform="weibo", name="c"))
