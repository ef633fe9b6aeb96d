"""The one migration history brings SQLite and PostgreSQL to the models' schema."""

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from syndicator.db import open_database
from syndicator.migrate import alembic_config
from syndicator.models import Article, ArticleVersion, Unit, UTCDateTime, utcnow


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


def test_0012_copies_version_content_out_of_the_stored_payload(database_url) -> None:
    """Versions stored before 0012 (content only in `payload`, the sanitised body under a magic key)
    are sent from typed columns after it, with what they said unchanged."""
    config = alembic_config(database_url)
    command.downgrade(config, "0011")
    try:
        checked, stale = asyncio.run(_insert_old_versions(database_url))
    finally:
        command.upgrade(config, "head")
    checked_row, stale_row = asyncio.run(_read_versions(database_url, checked, stale))

    assert (checked_row.external_id, checked_row.title, checked_row.url) == (
        OLD_PAYLOAD["external_id"],
        OLD_PAYLOAD["title"],
        OLD_PAYLOAD["url"],
    )
    assert checked_row.published_at == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert (checked_row.doc_number, checked_row.category) == ("粤府办〔2026〕1号", "通知公告")
    assert checked_row.body_html == OLD_PAYLOAD["body_html"]
    assert checked_row.sanitized_html == "<p>正文</p>"
    assert checked_row.attachments == [{"name": "附件1.pdf", "url": "https://www.gd.gov.cn/a1.pdf"}]
    assert checked_row.payload == OLD_PAYLOAD  # the document as received, without the magic key
    assert checked_row.body_to_send == "<p>正文</p>"
    # A stale version was never checked: no sanitised body, and sent (were it ever) as received.
    assert stale_row.sanitized_html is None and stale_row.body_to_send == OLD_PAYLOAD["body_html"]
    assert stale_row.attachments == []


OLD_PAYLOAD = {
    "title": "关于做好冬季安全生产工作的通知",
    "external_id": "gd-2026-1",
    "source_portal": "www.gd.gov.cn",
    "unit": "广东省人民政府",
    "unit_level": "province",
    "doc_number": "粤府办〔2026〕1号",
    "category": "通知公告",
    "published_at": "2026-11-30T09:00:00+08:00",
    "url": "https://www.gd.gov.cn/art/1.html",
    "body_html": '<p onclick="x()">正文</p>',
    "attachments": [{"name": "附件1.pdf", "url": "https://www.gd.gov.cn/a1.pdf"}],
    "updated_at": None,
    "obligation": False,
    "submitted_by": None,
}
_OLD_VERSION = sa.table(  # article_version as 0011 left it
    "article_version",
    sa.column("article_id", sa.Integer()),
    sa.column("number", sa.Integer()),
    sa.column("content_hash", sa.String()),
    sa.column("status", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("received_at", UTCDateTime()),
    sa.column("review_state", sa.String()),
)


async def _insert_old_versions(url: str) -> tuple[int, int]:
    database = open_database(url)
    try:
        async with database.transaction() as session:
            unit = Unit(name="广东省人民政府（迁移测试）", level="province")
            session.add(unit)
            await session.flush()
            assert unit.id is not None
            article = Article(
                source_portal="www.gd.gov.cn",
                external_id="gd-2026-1",
                unit_id=unit.id,
                title=OLD_PAYLOAD["title"],
                url=OLD_PAYLOAD["url"],
            )
            session.add(article)
            await session.flush()
            ids = []
            for number, payload in (
                (1, {**OLD_PAYLOAD, "sanitized_html": "<p>正文</p>"}),
                (2, {**OLD_PAYLOAD, "attachments": []}),
            ):
                row = _OLD_VERSION.insert().values(
                    article_id=article.id,
                    number=number,
                    content_hash=f"h{number}",
                    status="applied" if number == 1 else "stale",
                    payload=payload,
                    received_at=utcnow(),
                    review_state="clear",
                )
                connection = await session.connection()
                result = await connection.execute(row.returning(sa.literal_column("id")))
                ids.append(int(result.scalar_one()))
        return ids[0], ids[1]
    finally:
        await database.dispose()


async def _read_versions(url: str, *ids: int) -> list[ArticleVersion]:
    database = open_database(url)
    try:
        async with database.transaction() as session:
            return [v for v in [await session.get(ArticleVersion, i) for i in ids] if v is not None]
    finally:
        await database.dispose()
