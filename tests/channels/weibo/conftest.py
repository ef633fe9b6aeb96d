"""Fixtures for the Weibo channel: the emulator and a fake portal over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI, Response
from weibo_support import (
    CLIENT_TIMEOUT_SECONDS,
    HOURLY_LIMIT,
    PNG,
    TOKEN,
    TOKEN_TTL_SECONDS,
    UID,
    Emulator,
    FakeClock,
    make_account,
)

from channels.http import make_http_client
from channels.weibo.adapter import WeiboAdapter
from channels.weibo.emulator import create_app
from syndicator.background_server import BackgroundServer


def _portal_app() -> FastAPI:
    app = FastAPI()

    @app.get("/img/seal.png")
    async def seal() -> Response:
        return Response(PNG, media_type="image/png")

    @app.get("/img/huge.jpg")
    async def huge() -> Response:
        return Response(b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024), media_type="image/jpeg")

    return app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator_server(clock: FakeClock) -> Iterator[tuple[str, FastAPI]]:
    app = create_app(
        access_token=TOKEN,
        uid=UID,
        safe_domains=("gov.cn",),
        hourly_limit=HOURLY_LIMIT,
        token_ttl_seconds=TOKEN_TTL_SECONDS,
        clock=clock,
    )
    with BackgroundServer(app) as server:
        yield server.url, app


@pytest.fixture
def portal_url() -> Iterator[str]:
    with BackgroundServer(_portal_app()) as server:
        yield server.url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = make_http_client(timeout_seconds=CLIENT_TIMEOUT_SECONDS)
    yield client
    await client.aclose()


@pytest.fixture
def emulator(emulator_server: tuple[str, FastAPI], http: httpx.AsyncClient) -> Emulator:
    url, app = emulator_server
    return Emulator(url=url, app=app, http=http)


@pytest.fixture
def adapter(emulator: Emulator, http: httpx.AsyncClient, clock: FakeClock) -> WeiboAdapter:
    return WeiboAdapter(account=make_account(emulator.url), http=http, rip="203.0.113.7", clock=clock)
