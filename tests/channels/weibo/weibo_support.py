"""Factories and helpers for the Weibo channel tests (imported by conftest and the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from channels.base import AccountConfig, ArticleContent, Platform

TOKEN = "weibo-test-token"
UID = 5_000_000_042
TOKEN_TTL_SECONDS = 3600
HOURLY_LIMIT = 5
CLIENT_TIMEOUT_SECONDS = 1.0
HANG_SECONDS = 2.0  # longer than the client's timeout, short enough not to hold the server's shutdown

# The smallest valid PNG: an 8-byte signature and three chunks.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2025, 3, 3, 2, 15, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Emulator:
    url: str
    app: FastAPI
    http: httpx.AsyncClient

    async def state(self) -> dict[str, Any]:
        return (await self.http.get(f"{self.url}/_emulator/state")).json()  # type: ignore[no-any-return]

    async def faults(self, *faults: dict[str, Any]) -> None:
        plan = {"queue": list(faults), "hang_seconds": HANG_SECONDS}
        (await self.http.post(f"{self.url}/_emulator/faults", json=plan)).raise_for_status()

    async def seed_comment(self, status_id: str, text: str, author: str = "市民") -> dict[str, Any]:
        body = {"status_id": status_id, "text": text, "author": author}
        response = await self.http.post(f"{self.url}/_emulator/comments", json=body)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


def make_account(api_base_url: str, secret: str = TOKEN, safe_domain: str | None = "gov.cn") -> AccountConfig:
    return AccountConfig(
        account_id=7,
        platform=Platform.WEIBO,
        name="某市人民政府",
        api_base_url=api_base_url,
        secret=secret,
        safe_domain=safe_domain,
        image_hosts=("127.0.0.1",),  # the test portal serves the images on loopback
        fetch_allow_loopback=True,
    )


def make_article(
    *,
    title: str = "关于加强政府网站信息内容建设的通知",
    body_html: str = "<p>为进一步加强政府网站建设，现通知如下。</p>",
    url: str = "https://www.example.gov.cn/art/2025/3/3/art_1.html",
    doc_number: str | None = "苏政办发〔2017〕96号",
    version: int = 1,
) -> ArticleContent:
    return ArticleContent(
        external_id="example.gov.cn/1",
        title=title,
        body_html=body_html,
        url=url,
        unit="某市人民政府办公室",
        published_at=datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
        version=version,
        doc_number=doc_number,
    )
