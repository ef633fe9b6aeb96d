"""The inspection export (issue 17 §3): figures per account and period, traceable, scope-limited,
as JSON / CSV / XLSX over the API and the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.cli.compliance import compliance_app
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import Article, CheckResult, Comment, Publication
from syndicator.obligations.clock import SHANGHAI
from syndicator.obligations.fulfil import detect_manual_reposts
from syndicator.obligations.inspection import Inspection, Period, build_inspection
from syndicator.obligations.matching import RecentPost
from syndicator.workdays import WorkCalendar
from tests.obligations.conftest import EVENING, Org, open_item
from tests.obligations.test_obligation_api import bearer
from tests.support import version_of

FROM, TO = date(2026, 11, 16), date(2026, 11, 29)  # two natural weeks, Monday to Sunday
PERIOD = Period.of(FROM, TO, now=datetime(2026, 12, 1, tzinfo=UTC))


def beijing(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


async def article(db: Database, org: Org, unit: str, key: str, *, review: str = "clear") -> tuple[int, int]:
    async with db.transaction() as session:
        row = Article(
            source_portal="portal",
            external_id=key,
            unit_id=org.units[unit],
            title=f"稿件{key}",
            url=f"https://www.example.gov.cn/{key}.html",
        )
        session.add(row)
        await session.flush()
        version = version_of(row, content_hash=key, review_state=review, received_at=beijing(20))
        session.add(version)
        await session.flush()
        assert row.id is not None and version.id is not None
        return row.id, version.id


async def publish(db: Database, org: Org, account: str, days: list[int]) -> None:
    unit = account.rsplit("-", 1)[0]
    for day in days:
        article_id, version_id = await article(db, org, unit, f"{account}-{day}")
        async with db.transaction() as session:
            session.add(
                Publication(
                    article_id=article_id,
                    version_id=version_id,
                    account_id=org.accounts[account],
                    state="published",
                    published_at=beijing(day),
                )
            )


@pytest.fixture
async def scenario(db: Database, org: Org) -> Org:
    # Hangzhou (city): twice in the first week, once in the second (below the municipal rule).
    await publish(db, org, "杭州市人民政府-wechat", [10, 16, 18, 24])  # 11-10 is before the period
    # Nanjing WeChat (city) and Jiangning WeChat (county) update every working day but 11-19.
    await publish(db, org, "南京市人民政府-wechat", [16, 17, 18, 20, 23, 24, 25, 26, 27])
    await publish(db, org, "江宁区人民政府-wechat", [16, 17, 18, 20, 23, 24, 25, 26, 27])
    await open_item(db)  # due 2026-11-26 08:40 for every provincial/city account
    async with db.transaction() as session:
        post = RecentPost(
            "国办发〔2026〕9号 全文", "https://mp.weixin.qq.com/s/nj", "", EVENING + timedelta(hours=3)
        )
        await detect_manual_reposts(
            session, org.accounts["南京市人民政府-wechat"], [post], now=EVENING + timedelta(hours=3)
        )
    # Comments to Hangzhou WeChat: one answered in time, one answered late, one not at all.
    async with db.transaction() as session:
        for n, replied in enumerate((beijing(18), beijing(25), None)):
            session.add(
                Comment(
                    platform="wechat",
                    account_id=org.accounts["杭州市人民政府-wechat"],
                    remote_id=f"c{n}",
                    remote_article_id="x",
                    author="市民",
                    content="请问……",
                    content_hash=f"c{n}",
                    state="replied" if replied else "pending",
                    received_at=beijing(17),
                    reply_due_at=beijing(19, 18),
                    replied_at=replied,
                )
            )
    # A Hangzhou article held for a secrecy marking and a wording problem.
    _, version_id = await article(db, org, "杭州市人民政府", "held", review="rejected")
    async with db.transaction() as session:
        session.add(
            CheckResult(
                version_id=version_id, rule="secrecy.classification_mark", severity="block", message="机密"
            )
        )
        session.add(CheckResult(version_id=version_id, rule="wording", severity="block", message="用语"))
        session.add(CheckResult(version_id=version_id, rule="ads.price", severity="warn", message="价格"))
    return org


async def inspection_for(db: Database, *, user_scope: int | None = None) -> Inspection:
    async with db.transaction() as session:
        return await build_inspection(
            session, PERIOD, user_scope=user_scope, unit_id=None, is_working_day=WorkCalendar().is_working_day
        )


async def test_figures_per_account_are_traceable(db: Database, scenario: Org) -> None:
    data = await inspection_for(db)
    by_name = {a.account_name: a for a in data.accounts}
    hz = by_name["杭州市人民政府-wechat"]
    assert hz.published == 3 and len(hz.publication_ids) == 3
    assert (hz.reposts.due, hz.reposts.on_time, hz.reposts.missed) == (1, 0, 1)
    assert hz.frequency.rule == "municipal" and hz.frequency.weeks == 2
    assert hz.frequency.weeks_below_minimum == [date(2026, 11, 23)] and hz.frequency.meets_rule is False
    assert (hz.comments.received, hz.comments.replied, hz.comments.replied_on_time) == (3, 2, 1)
    assert hz.held.versions == 1 and hz.held.findings == {"涉密标识": 1, "用语规范": 1}
    # The silence that runs into the period counts whole: 11-10 10:00 → 11-16 10:00.
    assert hz.silence.longest_days == 6.0 and not hz.silence.crossed_veto

    nj = by_name["南京市人民政府-wechat"]
    assert (nj.reposts.due, nj.reposts.on_time) == (1, 1) and nj.reposts.obligation_ids["on_time"]
    assert nj.frequency.rule == "municipal" and nj.frequency.meets_rule is True
    county = by_name["江宁区人民政府-wechat"]
    assert county.frequency.rule == "county" and county.frequency.meets_rule is False
    assert county.frequency.missed_working_days == [date(2026, 11, 19)]
    assert (county.frequency.working_days, county.frequency.working_days_updated) == (10, 9)
    never = by_name["浙江省人民政府-app"]
    assert never.published == 0 and never.silence.crossed_veto  # silent since the account opened
    assert never.frequency.rule == "none" and never.frequency.meets_rule is None
    # Figures add up to the ids listed.
    assert sum(a.reposts.due for a in data.accounts) == len(data.targets)
    assert sum(a.published for a in data.accounts) == len(data.publications)


async def test_an_officer_sees_only_their_scope(db: Database, scenario: Org) -> None:
    data = await inspection_for(db, user_scope=scenario.units["浙江省人民政府"])
    assert {a.unit_name for a in data.accounts} == {"浙江省人民政府", "杭州市人民政府"}
    assert all("南京" not in str(r) for r in data.targets + data.publications)


@pytest.fixture
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    with BackgroundServer(create_app(settings)) as running:
        async with httpx.AsyncClient(base_url=running.url, timeout=20) as client:
            yield client


async def test_api_json_csv_xlsx(api_client: httpx.AsyncClient, scenario: Org) -> None:
    params = {"from": FROM.isoformat(), "to": TO.isoformat()}
    as_json = await api_client.get(
        "/api/v1/compliance/inspection", params=params, headers=bearer(scenario, "js-officer")
    )
    assert as_json.status_code == 200
    body = json.loads(as_json.content)
    assert {a["unit_name"] for a in body["accounts"]} == {
        "江苏省人民政府",
        "南京市人民政府",
        "江宁区人民政府",
    }
    assert all(t["obligation_id"] for t in body["targets"])
    as_csv = await api_client.get(
        "/api/v1/compliance/inspection",
        params={**params, "format": "csv"},
        headers=bearer(scenario, "officer"),
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert {
        "账号",
        "发布数",
        "应转载",
        "按时转载",
        "未转载",
        "最长未更新（天）",
        "超过14天（单项否决）",
        "按时回复",
    } <= set(rows[0])
    as_xlsx = await api_client.get(
        "/api/v1/compliance/inspection",
        params={**params, "format": "xlsx"},
        headers=bearer(scenario, "officer"),
    )
    book = load_workbook(io.BytesIO(as_xlsx.content))
    assert book.sheetnames == [
        "汇总",
        "说明",
        "发布情况",
        "重要政策转载",
        "最长未更新",
        "更新频率",
        "留言办理",
        "发布前拦截",
    ]
    assert book["发布前拦截"].max_row == 3  # the two blocking findings, not the warning
    outside = await api_client.get(
        "/api/v1/compliance/inspection",
        params={**params, "unit": "杭州市人民政府"},
        headers=bearer(scenario, "js-officer"),
    )
    assert outside.status_code == 403
    backwards = await api_client.get(
        "/api/v1/compliance/inspection",
        params={"from": "2026-11-29", "to": "2026-11-01"},
        headers=bearer(scenario, "officer"),
    )
    assert backwards.status_code == 422
    editor = await api_client.get(
        "/api/v1/compliance/inspection", params=params, headers=bearer(scenario, "editor")
    )
    assert editor.status_code == 403


def test_cli_writes_the_workbook(scenario: Org, settings: Settings, tmp_path, monkeypatch) -> None:
    from syndicator.config import get_settings

    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    out = tmp_path / "检查.xlsx"
    result = CliRunner().invoke(
        compliance_app,
        [
            "inspection",
            "--from",
            "2026-11-16",
            "--to",
            "2026-11-29",
            "--unit",
            "浙江省人民政府",
            "-o",
            str(out),
        ],
    )
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    summary = load_workbook(out)["汇总"]
    assert {row[0].value for row in summary.iter_rows(min_row=2)} == {
        "浙江省人民政府-wechat",
        "浙江省人民政府-app",
        "杭州市人民政府-wechat",
        "杭州市人民政府-app",
    }
