"""Bad input through the public API: each answered with a clear error, nothing stored; markup
injected into an article body never reaches a channel unescaped."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from channels.signing import signed_headers
from channels.wechat.emulator import create_app as create_wechat
from channels.weibo.emulator import create_app as create_weibo
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.demo.stack import derived_articles
from syndicator.models import Article
from tests.conftest import INGEST_SECRET
from tests.faults.conftest import CaseRow
from tests.integration.conftest import COVER, WECHAT_APP_ID
from tests.support import post_signed, run_worker

UNIT = derived_articles(1)[0]["unit"]


@pytest.fixture
async def known_unit(db: Database) -> str:
    async with db.transaction() as session:
        await admin.add_unit(session, UNIT, "province", None, actor="faults")
    return UNIT


async def stored_articles(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(Article))).one())


def article() -> dict[str, Any]:
    return derived_articles(1, tag="x")[0]


async def send_raw(api: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    headers = {"Content-Type": "application/json", **headers}
    return await api.post("/api/v1/articles", content=body, headers=headers)


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


BAD_DELIVERIES: dict[str, tuple[int, str]] = {
    # case: (status, text the error must contain)
    "wrong-secret": (401, "signature"),
    "stale-signature": (401, "timestamp"),
    "no-signature": (401, ""),
    "oversized-body": (413, "larger than"),
    "malformed-json": (422, "body"),
    "wrong-types": (422, "published_at"),
    "missing-field": (422, "title"),
    "unknown-unit": (422, "unit"),
}


def bad_request(case: str) -> tuple[bytes, dict[str, str]]:
    payload = article()
    if case == "wrong-types":
        payload |= {"published_at": 12.5e99, "obligation": "perhaps"}
    elif case == "missing-field":
        payload.pop("title")
    elif case == "unknown-unit":
        payload["unit"] = "不存在的单位"
    body = body_of(payload)
    if case == "malformed-json":
        body = body[:-7]
    elif case == "oversized-body":
        body = body_of(payload | {"body_html": "<p>" + "长" * (1024 * 1024) + "</p>"})  # > 2 MB in UTF-8
    secret = "not-the-portal-secret" if case == "wrong-secret" else INGEST_SECRET
    now = time.time() - 3600 if case == "stale-signature" else None
    headers = {} if case == "no-signature" else signed_headers(secret, "POST", "/api/v1/articles", body, now)
    return body, headers


@pytest.mark.parametrize("case", sorted(BAD_DELIVERIES))
async def test_bad_delivery_is_refused_and_nothing_stored(
    api: httpx.AsyncClient, db: Database, known_unit: str, case: str, ledger: CaseRow
) -> None:
    status, mentions = BAD_DELIVERIES[case]
    response = await send_raw(api, *bad_request(case))
    assert response.status_code == status, response.text
    assert mentions in response.text, response.text
    assert await stored_articles(db) == 0
    ledger.faults[f"api:{case}"] += 1


async def test_concurrent_first_deliveries_are_one_article(
    api: httpx.AsyncClient,
    db: Database,
    known_unit: str,
    ledger: CaseRow,
    database_url: str,
) -> None:
    """The portal retries before its first attempt was answered: every copy is accepted, one article."""
    payload = article()
    answers = await asyncio.gather(*(post_signed(api, payload, now=time.time() - i) for i in range(4)))
    ledger.faults["api:concurrent-duplicate"] += 3
    assert [a.status_code for a in answers] == [202] * 4, [a.text for a in answers]
    assert len({a.json()["article_id"] for a in answers}) == 1
    assert await stored_articles(db) == 1


INJECTION = (
    '<p>正文</p><script>alert("x")</script><img src="x" onerror="alert(1)">'
    '<a href="javascript:alert(2)">点此</a><iframe src="https://evil.example"></iframe>'
    '<svg onload="alert(3)"></svg><p onclick="steal()">续文</p>'
)
DANGEROUS = re.compile(r"<script|onerror|onload|onclick|javascript:|<iframe", re.I)


@pytest.fixture
def channel_servers(
    app_emulator: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, BackgroundServer]]:
    monkeypatch.setenv("TEST_WECHAT_SECRET", "wechat-secret")
    monkeypatch.setenv("TEST_WEIBO_TOKEN", "weibo-token")
    wechat = create_wechat(app_id=WECHAT_APP_ID, app_secret="wechat-secret", publish_delay_seconds=0)
    weibo = create_weibo(access_token="weibo-token", safe_domains=("gov.cn",))
    with BackgroundServer(wechat) as wechat_server, BackgroundServer(weibo) as weibo_server:
        yield {"app": app_emulator, "wechat": wechat_server, "weibo": weibo_server}


async def seed_everywhere(db: Database, emulators: dict[str, Any]) -> None:
    options = {
        "app": {"secret_env": "SYNDICATOR_TEST_APP_SECRET"},
        "wechat": {"app_id": WECHAT_APP_ID, "secret_env": "TEST_WECHAT_SECRET", "default_cover": str(COVER)},
        "weibo": {"secret_env": "TEST_WEIBO_TOKEN", "safe_domain": "ln.gov.cn"},
    }
    async with db.transaction() as session:
        for platform, extra in options.items():
            await admin.add_account(
                session, unit=UNIT, platform=platform, name=platform,
                api_base_url=emulators[platform].url, actor="faults", **extra,
            )  # fmt: skip


def stored_markup(emulators: dict[str, Any]) -> list[str]:
    app = httpx.get(f"{emulators['app'].url}/_emulator/state").json()
    wechat = httpx.get(f"{emulators['wechat'].url}/_emulator/state").json()
    weibo = httpx.get(f"{emulators['weibo'].url}/_emulator/state").json()
    return (
        [a["body_html"] for a in app["articles"].values()]
        + [item["content"] for items in wechat["articles"].values() for item in items]
        + [share["status"] for share in weibo["shares"]]
    )


async def test_injected_markup_never_reaches_a_channel(
    api: httpx.AsyncClient, db: Database, settings: Settings, channel_servers: dict[str, Any],
    known_unit: str, ledger: CaseRow,
) -> None:  # fmt: skip
    emulators = channel_servers
    await seed_everywhere(db, emulators)
    response = await post_signed(api, article() | {"body_html": INJECTION})
    assert response.status_code == 202, response.text
    ledger.faults["api:html-injection"] += 1
    await run_worker(settings)
    stored = stored_markup(emulators)
    ledger.articles += 1
    assert not [text for text in stored if DANGEROUS.search(text)], stored
    # Published (sanitised) or held by the pre-publish checks: either way nothing unsafe went out.
    if response.json()["status"] == "held":
        assert stored == [] and response.json()["publications"] == []
    else:
        assert len(stored) == 3 and all("续文" in text for text in stored[:2]), stored
