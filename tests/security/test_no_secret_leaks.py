"""Issue 12 findings 2 and 4: a failing publish with every secret configured leaks none of them
into a log line, a stored error, an audit row, a chat message or an API answer.

The WeChat API here answers draft/add with a malformed HTTP response (a real socket, a real
aiohttp parser): aiohttp raises ClientResponseError, whose text carries the request URL with
`?access_token=…`. It used to slip past `except httpx.HTTPError`, reach `log.exception` (the
console renderer printed locals) and be stored and shown as the publication's error.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from channels.http import TRANSPORT_ERRORS, transport_error
from syndicator import admin
from syndicator.models import PublicationState
from tests.conftest import APP_SECRET, APP_SECRET_ENV, INGEST_SECRET
from tests.integration.conftest import COVER
from tests.support import corpus_articles, post_signed, publications

ROOT = Path(__file__).resolve().parents[2]
ACCESS_TOKEN = "ACCESS-TOKEN-" + "q" * 100
SECRETS = {
    "SYNDICATOR_TELEGRAM_TOKEN": "123456789:telegram-bot-token-value",
    "SYNDICATOR_WECHAT_CALLBACK_TOKEN": "callback-token-value",
    "SYNDICATOR_WECHAT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "SYNDICATOR_DASHBOARD_SESSION_SECRET": "dashboard-session-secret-value",
    "LEAK_WECHAT_SECRET": "wechat-app-secret-value",
}


async def _fake_wechat(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Just enough of api.weixin.qq.com; draft/add answers with a broken Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if headers.get("content-length", "").isdigit():
        await reader.readexactly(int(headers["content-length"]))
    path = lines[0].split()[1]
    if "/draft/add" in path:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}")
    else:
        answer = {"access_token": ACCESS_TOKEN, "expires_in": 7200} if "stable_token" in path else {}
        body = json.dumps({**answer, "media_id": "thumb-1", "errcode": 0}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n")
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    await writer.drain()
    writer.close()


@pytest.fixture
def settings(settings):
    """A queue of this test's own: the subprocess worker must see only this test's jobs."""
    return settings.model_copy(update={"queue_name": f"leak-test:{uuid.uuid4().hex}"})


@pytest.fixture
async def wechat_api() -> AsyncIterator[str]:
    server = await asyncio.start_server(_fake_wechat, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        await server.start_serving()
        yield f"http://127.0.0.1:{port}"


def _run_worker(settings) -> str:
    env = {
        **os.environ,
        **SECRETS,
        APP_SECRET_ENV: APP_SECRET,
        "SYNDICATOR_DATABASE_URL": settings.database_url,
        "SYNDICATOR_REDIS_URL": settings.redis_url,
        "SYNDICATOR_INGEST_SECRET": INGEST_SECRET,
        "SYNDICATOR_QUEUE_NAME": settings.queue_name,
        "SYNDICATOR_PUBLISH_MAX_ATTEMPTS": "2",
        "SYNDICATOR_RETRY_BASE_SECONDS": "0.01",
        "SYNDICATOR_RETRY_CAP_SECONDS": "0.05",
        "SYNDICATOR_MODERATION_CHAT_ID": "-100",
        # The reconciler enqueues from the database at startup: the test survives a Redis flush
        # by a concurrent test run sharing the machine.
        "SYNDICATOR_STUCK_AFTER_SECONDS": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.security.leak_worker"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


async def test_a_failing_publish_leaks_no_secret(db, api, settings, wechat_api, monkeypatch) -> None:
    monkeypatch.setenv("LEAK_WECHAT_SECRET", SECRETS["LEAK_WECHAT_SECRET"])
    article = corpus_articles()[1]
    async with db.transaction() as session:
        await admin.add_unit(session, article["unit"], "county", None, actor="test")
        await admin.add_account(
            session, unit=article["unit"], platform="wechat", name="wechat", api_base_url=wechat_api,
            app_id="wx0123456789abcdef", secret_env="LEAK_WECHAT_SECRET", default_cover=str(COVER), actor="t",
        )  # fmt: skip
        await admin.add_user(session, "other", ["officer", "editor"], telegram_id=None, scope=None, actor="t")
        token = await admin.issue_token(session, "other", actor="test")
    assert (await post_signed(api, article)).status_code == 202

    logs = await asyncio.to_thread(_run_worker, settings)

    (publication,) = await publications(db)
    assert publication.state == PublicationState.FAILED, logs[-4000:]
    assert "ClientResponseError" in logs  # the failure happened and was logged
    shown = (await api.get("/api/v1/publications", headers={"Authorization": f"Bearer {token}"})).text
    assert "ClientResponseError" in shown
    async with db.transaction() as session:  # raw SQL: what is stored, not what the ORM shows
        stored = [
            str(row)
            for table in ("publication", "audit_event", "notification")
            for row in (await session.exec(text(f"SELECT * FROM {table}"))).all()  # type: ignore[call-overload]
        ]
    secrets = [*SECRETS.values(), ACCESS_TOKEN, INGEST_SECRET, APP_SECRET]
    for where, content in (("log", logs), ("database", "\n".join(stored)), ("API", shown)):
        for secret in secrets:
            assert secret not in content, f"{secret[:12]}… leaked into the {where}"
        assert "access_token=" not in content, f"a URL query leaked into the {where}"


def test_one_mapper_takes_every_transport_error_and_drops_the_query() -> None:
    import aiohttp
    from yarl import URL

    info = aiohttp.RequestInfo(
        URL("https://api.weixin.qq.com/cgi-bin/draft/add?access_token=SeCrEt"), "POST", {}
    )
    cases = [
        aiohttp.ClientResponseError(info, (), status=400, message="Invalid character"),
        aiohttp.ServerDisconnectedError(),
        TimeoutError(),
        ConnectionResetError("reset by peer"),
    ]
    for exc in cases:
        assert isinstance(exc, TRANSPORT_ERRORS)
        error = transport_error(exc, "wechat", what="draft/add")
        assert "SeCrEt" not in str(error) and "access_token=" not in str(error)
        assert error.code == "transport"
