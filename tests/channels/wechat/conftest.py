"""WeChat channel tests: the emulator and a fake portal over real HTTP on loopback, real Redis db 14."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse
from redis.asyncio import Redis

from channels.base import AccountConfig, ArticleContent, Platform, PublishResult, RenderedPost
from channels.faults import Fault, FaultPlan
from channels.http import make_http_client
from channels.wechat.adapter import WeChatAdapter
from channels.wechat.emulator import create_app
from syndicator.background_server import BackgroundServer

REDIS_URL = "redis://127.0.0.1:6379/14"
APP_SECRET = "test-secret"
# The smallest valid PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
T = TypeVar("T")
PUBLISH_DELAY_SECONDS = 1.0  # on the emulator's clock, which the tests move (ManualClock)


class ManualClock:
    """The emulator's time, moved only by the test: tokens expire and publish jobs finish when the
    test advances it, never by waiting for the wall clock."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Emulator:
    url: str
    app: FastAPI
    control: httpx.Client

    def state(self) -> dict[str, Any]:
        return self.control.get("/_emulator/state").raise_for_status().json()

    def inject(self, *faults: Fault, hang_seconds: float = 30) -> None:
        plan = FaultPlan(queue=list(faults), hang_seconds=hang_seconds)
        self.control.post("/_emulator/faults", json=plan.model_dump()).raise_for_status()

    def answer(self, path: str, errcode: int, errmsg: str = "injected", after: int = 0) -> Fault:
        return Fault(
            kind="answer", status=200, body={"errcode": errcode, "errmsg": errmsg}, path=path, after=after
        )

    def post(self, path: str, body: dict[str, Any]) -> None:
        self.control.post(f"/_emulator/{path}", json=body).raise_for_status()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app_id() -> str:
    """Unique per test: other suites share this Redis database, so keys must never collide."""
    return f"wx{uuid.uuid4().hex[:16]}"


@pytest.fixture
def start_emulator(clock: ManualClock, app_id: str) -> Iterator[Callable[..., Emulator]]:
    servers: list[tuple[BackgroundServer, httpx.Client]] = []

    def start(**options: Any) -> Emulator:
        options = {
            "app_id": app_id,
            "app_secret": APP_SECRET,
            "publish_delay_seconds": PUBLISH_DELAY_SECONDS,
            **options,
        }
        app = create_app(clock=clock, **options)
        server = BackgroundServer(app).start()
        control = httpx.Client(base_url=server.url, timeout=10)
        servers.append((server, control))
        return Emulator(url=server.url, app=app, control=control)

    yield start
    for server, control in servers:
        control.close()
        server.stop()


@pytest.fixture
def emulator(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator()


@dataclass
class Portal:
    url: str
    hits: dict[str, int]


@pytest.fixture
def portal() -> Iterator[Portal]:
    """The government portal, serving the article images the adapter must re-host."""
    app = FastAPI()
    hits: dict[str, int] = {}

    @app.get("/internal-admin/secret.png")
    async def internal() -> Response:
        hits["internal"] = hits.get("internal", 0) + 1
        return Response(PNG, media_type="image/png")

    @app.get("/huge/{name}")
    async def huge(name: str) -> StreamingResponse:
        hits[name] = hits.get(name, 0) + 1
        chunk = b"<html>" + b"x" * 65_536

        async def body() -> AsyncIterator[bytes]:
            for _ in range(1024):  # 64 MiB of text/html, streamed
                yield chunk

        return StreamingResponse(body(), media_type="text/html")

    @app.get("/images/{name}")
    async def image(name: str) -> Response:
        hits[name] = hits.get(name, 0) + 1
        return Response(PNG, media_type="image/png") if name != "missing.png" else Response(status_code=404)

    with BackgroundServer(app) as server:
        yield Portal(url=server.url, hits=hits)


@pytest.fixture
async def redis(app_id: str) -> AsyncIterator[Redis]:
    """Real Redis; this test's keys are removed afterwards. No FLUSHDB: concurrent suites share the db."""
    client = Redis.from_url(REDIS_URL)
    yield client
    async for key in client.scan_iter(match=f"syn:wechat:*{app_id}*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = make_http_client(timeout_seconds=5)
    yield client
    await client.aclose()


@pytest.fixture
def cover_file(tmp_path: Path) -> Path:
    path = tmp_path / "cover.png"
    path.write_bytes(PNG)
    return path


@pytest.fixture
def make_adapter(
    emulator: Emulator, http: httpx.AsyncClient, redis: Redis, cover_file: Path, app_id: str
) -> Callable[..., WeChatAdapter]:
    def make(**overrides: Any) -> WeChatAdapter:
        options: dict[str, Any] = {
            "http": http,
            "redis": redis,
            "base_url": emulator.url,
            "default_cover": cover_file,
            "fetch_allow_loopback": True,  # the test portal serves the images on loopback
        }
        options.update(overrides)
        account = AccountConfig(
            account_id=1,
            platform=Platform.WECHAT,
            name="苏州发布",
            api_base_url=options["base_url"],
            app_id=app_id,
            secret=APP_SECRET,
            default_cover=None if options["default_cover"] is None else str(options["default_cover"]),
            fetch_allow_loopback=options["fetch_allow_loopback"],
        )
        return WeChatAdapter(account=account, http=options["http"], redis=options["redis"])

    return make


@pytest.fixture
def adapter(make_adapter: Callable[..., WeChatAdapter]) -> WeChatAdapter:
    return make_adapter()


@pytest.fixture
def make_article(portal: Portal) -> Callable[..., ArticleContent]:
    def make(**overrides: Any) -> ArticleContent:
        fields: dict[str, Any] = {
            "external_id": "js.gov.cn/0001",
            "title": "关于进一步加强政务新媒体管理的通知",
            "body_html": (
                "<p>各市、县人民政府，省各委办厅局：</p>"
                "<p>一、总体要求</p>"
                "<p>（一）明确责任。各地要落实主体责任，确保信息发布及时准确。</p>"
                '<p><img src="/images/figure-1.png" alt="图1"></p>'
                "<p>二、工作措施</p>"
            ),
            "url": f"{portal.url}/art/2017/8/1/art_1.html",
            "unit": "江苏省人民政府办公厅",
            "published_at": datetime(2017, 8, 1, 10, 0, tzinfo=timezone(timedelta(hours=8))),
            "version": 1,
            "doc_number": "苏政办发〔2017〕96号",
        }
        fields.update(overrides)
        return ArticleContent(**fields)

    return make


@pytest.fixture
def eventually(clock: ManualClock) -> Callable[[Callable[[], Awaitable[T | None]]], Awaitable[T]]:
    """Poll an asynchronous outcome (WeChat publishes in the background): each miss moves the
    emulator's clock past its publish delay instead of sleeping."""

    async def poll(probe: Callable[[], Awaitable[T | None]], attempts: int = 50) -> T:
        for _ in range(attempts):
            outcome = await probe()
            if outcome is not None:
                return outcome
            clock.advance(PUBLISH_DELAY_SECONDS)
            await asyncio.sleep(0)  # let the other tasks of the test run
        raise AssertionError("the outcome never arrived")

    return poll


@pytest.fixture
def publish_live(eventually: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[PublishResult]]:
    """Publish and follow the job until WeChat reports it published."""

    async def run(adapter: WeChatAdapter, post: RenderedPost, key: str) -> PublishResult:
        submitted = await adapter.publish(post, key)

        async def probe() -> PublishResult | None:
            result = await adapter.check_status(submitted)
            return result if result.state == "published" else None

        return await eventually(probe)

    return run
