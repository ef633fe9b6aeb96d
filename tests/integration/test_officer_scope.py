"""Finding 9: an officer of unit A read unit B's articles, publications, comments and the
consistency report. Every route in the OpenAPI schema is walked with a user scoped to A, holding
every role: ids of B's objects answer 404 and no list shows anything of B's."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import httpx
import openpyxl
from sqlmodel import select

from syndicator import admin, audit
from syndicator.api.app import create_app
from syndicator.models import (
    Article,
    ArticleVersion,
    ChannelAccount,
    Comment,
    Obligation,
    Publication,
    UpstreamItem,
    utcnow,
)
from syndicator.tabular import XLSX
from tests.conftest import APP_SECRET_ENV
from tests.support import corpus_articles, post_signed

MARK = "乙单位专属标记"
UNIT_A, UNIT_B = "甲市人民政府", f"{MARK}县人民政府"
ROLES = ["admin", "editor", "reviewer", "officer"]

# Routes that take no API token, with the reason they hold no unit data for a token holder.
# (The dashboard is not in the schema: it is cookie-signed and scoped by itself.)
NOT_TOKEN_ROUTES = {
    ("POST", "/api/v1/articles"): "the portal's signed webhook",
    ("DELETE", "/api/v1/articles/{article_id}"): "the portal's signed withdrawal",
    ("POST", "/api/v1/channels/app/comments"): "the app backend's signed push",
    ("GET", "/api/v1/channels/wechat/{account_id}/callback"): "WeChat's signed URL check",
    ("POST", "/api/v1/channels/wechat/{account_id}/callback"): "WeChat's signed push",
    ("GET", "/api/v1/chat/wecom/callback"): "WeCom's signed, encrypted URL check",
    ("POST", "/api/v1/chat/wecom/callback"): "WeCom's signed, encrypted push",
    ("GET", "/healthz"): "liveness",
    ("GET", "/metrics"): "counts by platform and state only",
}
BODIES = {
    "release": {"reason": "越权"},
    "reject": {"reason": "越权"},
    "waive": {"reason": "越权"},
    "evidence": {"url": "https://example.gov.cn/repost/1", "note": MARK},
    "preview": {**corpus_articles()[0], "unit": UNIT_A},  # the outsider's own unit: a 200
}


# Query parameters a route requires (a report needs its period).
QUERIES = {"/api/v1/compliance/inspection": {"from": "2020-01-01", "to": "2030-12-31"}}


def visible_text(answer: httpx.Response) -> str:
    """What a reader sees: the body, or every cell of a workbook."""
    if not answer.headers.get("content-type", "").startswith(XLSX):
        return answer.text
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    return " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)


async def seed_two_units(db, app_url: str) -> dict[str, int]:
    async with db.transaction() as session:
        for unit in (UNIT_A, UNIT_B):
            await admin.add_unit(session, unit, "county", None, actor="test")
            await admin.add_account(
                session,
                unit=unit,
                platform="app",
                name=f"{unit}-app",
                api_base_url=app_url,
                secret_env=APP_SECRET_ENV,
                actor="test",
            )
        await admin.add_user(session, "outsider", ROLES, telegram_id=None, scope=UNIT_A, actor="test")
        await admin.add_user(session, "root", ROLES, telegram_id=None, scope=None, actor="test")
        return {
            "outsider": await admin.issue_token(session, "outsider", actor="test"),
            "root": await admin.issue_token(session, "root", actor="test"),
        }


def article_of_b(n: int, body: str) -> dict:
    base = corpus_articles()[1]
    return {
        **base,
        "unit": UNIT_B,
        "title": f"{MARK}第{n}号通知",
        "external_id": f"b.gov.cn/{n}",
        "url": f"https://www.b.gov.cn/art/{n}.html",
        "body_html": body,
    }


async def seed_unit_b_data(db, api) -> dict[str, int]:
    clean = await post_signed(api, article_of_b(1, "<p>关于做好秋季防火工作的通知。</p>"))
    held = await post_signed(api, article_of_b(2, "<p>本文件为机密★1年，内部资料，不宜公开。</p>"))
    assert clean.status_code == 202 and held.status_code == 202, held.text
    async with db.transaction() as session:
        article_b = await session.get(Article, clean.json()["article_id"])
        account_b = (
            await session.exec(select(ChannelAccount).where(ChannelAccount.name == f"{UNIT_B}-app"))
        ).one()
        publication = (await session.exec(select(Publication))).one()
        publication.error_message = f"{MARK}: platform said no"  # publications show their errors
        session.add(publication)
        version = (
            await session.exec(
                select(ArticleVersion).where(ArticleVersion.article_id == held.json()["article_id"])
            )
        ).one()
        session.add(
            Comment(
                platform="app",
                account_id=account_b.id,
                remote_id="c1",
                remote_article_id="r1",
                author="市民",
                content=f"{MARK}的评论",
                content_hash="x",
            )
        )
        item = UpstreamItem(
            source="www.gov.cn",
            guid="g1",
            title=f"{MARK}重要政策",
            url="https://www.gov.cn/1",
            important=True,
            published_at=utcnow(),
        )
        session.add(item)
        await session.flush()
        obligation = Obligation(
            item_id=item.id,
            unit_id=account_b.unit_id,
            account_id=account_b.id,
            deadline_at=utcnow() + timedelta(hours=12),
        )
        session.add(obligation)
        await session.flush()
        audit.record(
            session,
            actor="worker",
            action="consistency.report",
            object_type="audit",
            object_id=None,
            drifts=[
                {
                    "kind": "missing",
                    "publication_id": publication.id,
                    "article_id": article_b.id,
                    "title": article_b.title,
                    "platform": "app",
                    "account": account_b.name,
                    "remote_id": "r1",
                    "fixed": False,
                    "error": None,
                }
            ],
        )
        return {
            "article_id": article_b.id,
            "publication_id": publication.id,
            "version_id": version.id,
            "obligation_id": obligation.id,
        }


async def test_every_route_hides_other_units_from_a_scoped_user(db, settings, api, app_emulator) -> None:
    tokens = await seed_two_units(db, app_emulator.url)
    ids = await seed_unit_b_data(db, api)
    schema = create_app(settings).openapi()
    routes = {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops}
    assert set(NOT_TOKEN_ROUTES) <= routes, set(NOT_TOKEN_ROUTES) - routes
    walked = sorted(routes - set(NOT_TOKEN_ROUTES))
    seen_by_root = 0
    for method, template in walked:
        names = re.findall(r"\{([^}]+)\}", template)
        path = template
        for name in names:
            path = path.replace("{" + name + "}", str(ids[name]))
        body = BODIES.get(path.rsplit("/", 1)[-1])
        for who in ("outsider", "root"):
            if who == "root" and (names or method != "GET"):
                continue  # the unscoped control only reads lists
            answer = await api.request(
                method,
                path,
                json=body,
                params=QUERIES.get(template),
                headers={"Authorization": f"Bearer {tokens[who]}"},
            )
            if who == "root":
                seen_by_root += MARK in visible_text(answer)
                continue
            if names:
                assert answer.status_code == 404, (method, template, answer.status_code, answer.text)
            else:
                assert answer.status_code == 200, (method, template, answer.text)
            assert MARK not in visible_text(answer), (method, template, answer.text)
    # The control: unit B's data is there and shows to an unscoped user on every list route.
    assert seen_by_root == sum(1 for m, t in walked if m == "GET" and "{" not in t), seen_by_root
