"""The demo's repost-obligation step: an upstream important-policy item opens a 12-hour obligation
for every unit account; one unit reposts it in time, the others do not; the report says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from rich.console import Console

from syndicator import admin
from syndicator.cli.compliance import table
from syndicator.db import Database
from syndicator.demo.stack import ARTICLES_PATH, signed_delivery
from syndicator.models import utcnow
from syndicator.obligations.compliance import build_report
from syndicator.obligations.report import ReportQuery

UPSTREAM_UNIT = "国务院办公厅"
DOC_NUMBER = "国办发〔2018〕123号"
TITLE = "国务院办公厅关于推进政务新媒体健康有序发展的意见"
LINK = "https://www.gov.cn/zhengce/content/2018-12/27/content_5352666.htm"  # from the corpus feed


def upstream_item() -> dict[str, Any]:
    published = utcnow() - timedelta(hours=1)
    return {
        "title": TITLE,
        "external_id": "www.gov.cn/govcn-2018-123",
        "source_portal": "www.gov.cn",
        "unit": UPSTREAM_UNIT,
        "unit_level": "national",
        "doc_number": DOC_NUMBER,
        "category": "国务院办公厅文件",
        "published_at": published.isoformat(),
        "url": LINK,
        "obligation": True,
        "body_html": f"<p>{DOC_NUMBER}</p><p>各省、自治区、直辖市人民政府，国务院各部委、各直属机构：……</p>",
    }


def repost_by(unit: str, portal: str) -> dict[str, Any]:
    return {
        "title": f"转发：{TITLE}",
        "external_id": f"{portal}/repost-govcn-2018-123",
        "source_portal": portal,
        "unit": unit,
        "unit_level": "city",
        "doc_number": None,
        "category": "转载",
        "published_at": utcnow().isoformat(),
        "url": f"https://www.{portal}/art/repost.html",
        "body_html": f"<p>现将《{TITLE}》（{DOC_NUMBER}）转发给你们。</p>"
        f'<p>原文：<a href="{LINK}">{LINK}</a></p>',
    }


async def open_upstream_item(db: Database, client: httpx.AsyncClient, secret: str) -> None:
    async with db.transaction() as session:
        await admin.add_unit(session, UPSTREAM_UNIT, "national", None, actor="demo")
    await _post(client, upstream_item(), secret)


async def repost(client: httpx.AsyncClient, secret: str, unit: str, portal: str) -> None:
    await _post(client, repost_by(unit, portal), secret)


async def print_report(db: Database, console: Console, *, reposting_accounts: int) -> bool:
    """The report as of one minute after the deadline: the reposting unit on time, the rest overdue.
    True when that is what it says."""
    as_of = utcnow() + timedelta(hours=11, minutes=1)
    async with db.transaction() as session:
        report = await build_report(session, ReportQuery(as_of=as_of), user_scope=None, limit=0)
    console.print(table(report))
    totals = report.totals
    return (
        totals.targets > reposting_accounts
        and totals.on_time == reposting_accounts
        and (totals.overdue == totals.targets - reposting_accounts)
    )


async def _post(client: httpx.AsyncClient, article: dict[str, Any], secret: str) -> None:
    body, headers = signed_delivery(secret, article)
    response = await client.post(ARTICLES_PATH, content=body, headers=headers)
    response.raise_for_status()
