"""Fixtures for the obligation tests: a small unit tree with accounts, items and officers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from syndicator import admin
from syndicator.db import Database
from syndicator.models import ChannelAccount, Obligation, UpstreamItem
from syndicator.obligations.config import ObligationConfig
from syndicator.obligations.service import ItemIn, record_item

# 2026-11-25 20:40 Beijing time: an evening item, due next morning 08:40.
EVENING = datetime(2026, 11, 25, 12, 40, tzinfo=UTC)
CONFIG = ObligationConfig(chat_id=-1001)
UNITS = [  # name, level, parent
    ("国务院办公厅", "national", None),
    ("江苏省人民政府", "province", None),
    ("南京市人民政府", "city", "江苏省人民政府"),
    ("江宁区人民政府", "county", "南京市人民政府"),
    ("浙江省人民政府", "province", None),
    ("杭州市人民政府", "city", "浙江省人民政府"),
]
COVER = Path(__file__).resolve().parents[2] / "syndicator" / "demo" / "cover.png"
# Valid settings per platform (`accounts add` checks them); these tests never send.
ACCOUNT_SETTINGS = {
    "wechat": {"app_id": "wx0123", "secret_env": "TEST_WECHAT_SECRET", "default_cover": str(COVER)},
    "app": {"api_base_url": "http://127.0.0.1:9", "secret_env": "TEST_APP_SECRET"},
}


@dataclass
class Org:
    units: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)  # "<unit>-<platform>"
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture
async def org(db: Database) -> Org:
    found = Org()
    async with db.transaction() as session:
        for name, level, parent in UNITS:
            unit = await admin.add_unit(session, name, level, parent, actor="test")
            assert unit.id is not None
            found.units[name] = unit.id
            if level == "national":
                continue
            for platform in ("wechat", "app"):
                account = await admin.add_account(
                    session,
                    unit=name,
                    platform=platform,
                    name=f"{name}-{platform}",
                    actor="test",
                    **ACCOUNT_SETTINGS[platform],
                )
                assert account.id is not None
                account.created_at = datetime(2026, 1, 1, tzinfo=UTC)
                found.accounts[f"{name}-{platform}"] = account.id
        for user, roles, scope in (
            ("officer", ["officer"], None),
            ("js-officer", ["officer"], "江苏省人民政府"),
            ("zj-officer", ["officer"], "浙江省人民政府"),
            ("editor", ["editor"], None),
        ):
            await admin.add_user(session, user, roles, telegram_id=None, scope=scope, actor="test")
            found.tokens[user] = await admin.issue_token(session, user, actor="test")
    return found


def item_in(guid: str = "govcn-2026-1", published_at: datetime = EVENING, **overrides: object) -> ItemIn:
    values: dict[str, object] = {
        "source": "www.gov.cn",
        "guid": guid,
        "title": "国务院办公厅关于进一步优化政务服务提升行政效能的意见",
        "url": f"https://www.gov.cn/zhengce/content/{guid}.htm",
        "published_at": published_at,
        "important": True,
        "doc_number": "国办发〔2026〕9号",
        "category": "国务院办公厅文件",
    }
    values.update(overrides)
    return ItemIn(**values)  # type: ignore[arg-type]


async def open_item(
    db: Database, item: ItemIn | None = None, *, now: datetime = EVENING, source_unit_id: int | None = None
) -> UpstreamItem:
    async with db.transaction() as session:
        row, _, _ = await record_item(
            session, item or item_in(), source_unit_id=source_unit_id, config=CONFIG, now=now
        )
    return row


async def obligations(db: Database) -> list[Obligation]:
    async with db.transaction() as session:
        return list((await session.exec(select(Obligation).order_by(Obligation.id))).all())  # type: ignore[arg-type]


async def target_for(db: Database, account_id: int) -> Obligation:
    async with db.transaction() as session:
        return (await session.exec(select(Obligation).where(Obligation.account_id == account_id))).one()


async def account(db: Database, account_id: int) -> ChannelAccount:
    async with db.transaction() as session:
        found = await session.get(ChannelAccount, account_id)
        assert found is not None
        return found
