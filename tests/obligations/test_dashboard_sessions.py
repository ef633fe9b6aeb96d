"""Dashboard sessions (issue 12 finding 5): their own key, server-side records, sign-in limits."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from syndicator import admin
from syndicator.api.app import create_app
from syndicator.api.dashboard import SESSION_COOKIE, sign
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import AppSecret, DashboardSession, User
from tests.conftest import INGEST_SECRET
from tests.obligations.conftest import Org
from tests.obligations.desk_support import sign_in


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    with BackgroundServer(create_app(settings)) as running:
        async with httpx.AsyncClient(base_url=running.url) as http:
            yield http


async def signed_in(client: httpx.AsyncClient) -> bool:
    answer = await client.get("/dashboard")
    return answer.status_code == 200 and "退出登录" in answer.text


def csrf_of(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


async def test_a_cookie_minted_from_the_ingest_secret_is_refused(
    client: httpx.AsyncClient, org: Org, db: Database
) -> None:
    async with db.transaction() as session:
        officer = (await session.exec(select(User).where(User.name == "officer"))).one()
    # What the portal (holder of the ingest secret) could mint before: a cookie naming a user id.
    portal_key = hashlib.sha256(b"syndicator-dashboard-session:" + INGEST_SECRET.encode()).digest()
    for payload in (
        {"uid": officer.id, "csrf": "x", "iat": time.time()},
        {"sid": "guess", "iat": time.time()},
    ):
        client.cookies.set(SESSION_COOKIE, sign(portal_key, payload), path="/dashboard")
        assert not await signed_in(client)


async def test_the_generated_key_is_kept_in_the_database(
    client: httpx.AsyncClient, org: Org, db: Database, settings: Settings
) -> None:
    assert (await sign_in(client, "officer", org.tokens["officer"])).status_code == 303
    async with db.transaction() as session:
        stored = await session.get(AppSecret, "dashboard_session")
    assert stored is not None and INGEST_SECRET not in stored.value
    # A second process (restart) reads the same key: the session survives.
    with BackgroundServer(create_app(settings)) as again:
        async with httpx.AsyncClient(base_url=again.url, cookies=client.cookies) as other:
            assert await signed_in(other)


async def test_sign_out_ends_the_session_even_for_a_copied_cookie(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, "officer", org.tokens["officer"])
    page = await client.get("/dashboard")
    copied = client.cookies.get(SESSION_COOKIE)
    assert (await client.post("/dashboard/logout", data={"csrf": csrf_of(page.text)})).status_code == 303
    client.cookies.set(SESSION_COOKIE, str(copied), path="/dashboard")
    assert not await signed_in(client)


async def test_token_revocation_ends_the_session(client: httpx.AsyncClient, org: Org, db: Database) -> None:
    await sign_in(client, "officer", org.tokens["officer"])
    assert await signed_in(client)
    async with db.transaction() as session:
        await admin.revoke_tokens(session, "officer", actor="test")
    assert not await signed_in(client)


@pytest.mark.parametrize("change", ["roles", "scope"])
async def test_a_role_or_scope_change_ends_the_session(
    client: httpx.AsyncClient, org: Org, db: Database, change: str
) -> None:
    await sign_in(client, "js-officer", org.tokens["js-officer"])
    assert await signed_in(client)
    async with db.transaction() as session:
        user = (await session.exec(select(User).where(User.name == "js-officer"))).one()
        if change == "roles":
            user.roles = "officer,reviewer"
        else:
            user.scope_unit_id = org.units["南京市人民政府"]
        session.add(user)
    assert not await signed_in(client)
    async with db.transaction() as session:
        ended = (await session.exec(select(DashboardSession))).one()
    assert ended.ended_at is not None


async def test_sign_in_is_limited_per_user(client: httpx.AsyncClient, org: Org, settings: Settings) -> None:
    for _ in range(settings.dashboard_login_failures_per_user):
        assert (await sign_in(client, "officer", "syn_wrong")).status_code == 401
    # Now even the right token is refused for a while; another user is unaffected.
    refused = await sign_in(client, "officer", org.tokens["officer"])
    assert refused.status_code == 429 and "登录失败次数过多" in refused.text
    assert (await sign_in(client, "zj-officer", org.tokens["zj-officer"])).status_code == 303


async def test_sign_in_is_limited_per_address(
    client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    for i in range(settings.dashboard_login_failures_per_address):
        assert (await sign_in(client, f"guess-{i}", "syn_wrong")).status_code == 401
    assert (await sign_in(client, "officer", org.tokens["officer"])).status_code == 429


async def test_long_expired_sessions_are_pruned_at_sign_in(
    client: httpx.AsyncClient, org: Org, db: Database
) -> None:
    await sign_in(client, "officer", org.tokens["officer"])
    async with db.transaction() as session:
        for record in (await session.exec(select(DashboardSession))).all():
            record.expires_at = record.created_at - timedelta(days=2)
            session.add(record)
    await sign_in(client, "zj-officer", org.tokens["zj-officer"])
    async with db.transaction() as session:
        assert len((await session.exec(select(DashboardSession))).all()) == 1
