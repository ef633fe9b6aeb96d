"""The ceiling: the same platform calls the adapters make, sent directly with raw aiohttp.

Bodies are rendered with the channels' own renderers before the clock starts, so the emulators
see byte-for-byte the same kind of requests as from the pipeline. `concurrency` publications are
in flight at once (the pipeline's workers x max_jobs); a WeChat publish waits POLL_SECONDS between
freepublish/get calls without holding a slot, as the pipeline's deferred poll job does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks import config as c
from channels.app.adapter import _push_body
from channels.app.render import render_article as render_app
from channels.base import ArticleContent
from channels.signing import signed_headers
from channels.wechat.render import render_article as render_wechat
from channels.weibo.render import render_status
from syndicator.articles import ArticleIn

MAX_POLLS = 100


@dataclass
class BaselineResult:
    publications: int
    failures: int
    seconds: float
    cpu_seconds: float
    token_fetches: int

    @property
    def throughput(self) -> float:
        return self.publications / self.seconds


def content_of(article: dict[str, Any]) -> ArticleContent:
    payload = ArticleIn.model_validate(article)
    return ArticleContent(
        external_id=payload.external_id,
        title=payload.title,
        body_html=payload.body_html,
        url=str(payload.url),
        unit=payload.unit,
        published_at=payload.published_at,
        version=1,
        doc_number=payload.doc_number,
        category=payload.category,
    )


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


@dataclass
class Baseline:
    urls: dict[str, str]
    concurrency: int
    tag: str
    session: aiohttp.ClientSession
    slots: asyncio.Semaphore = field(init=False)
    token: asyncio.Future[str] | None = None
    token_fetches: int = 0
    cover: bytes = field(default_factory=c.COVER.read_bytes)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.concurrency)

    # -- app -----------------------------------------------------------------------------------

    def prepare_app(self, index: int, content: ArticleContent) -> Callable[[], Awaitable[None]]:
        raw = _json_bytes(_push_body(render_app(content)))
        key = f"bench:{self.tag}:{index}:app"

        async def publish() -> None:
            headers = {"Content-Type": "application/json", "Idempotency-Key": key}
            headers.update(signed_headers(c.APP_SECRET, "POST", "/v1/articles", raw))
            async with self.slots:
                await self._expect(
                    self.session.post(f"{self.urls['app']}/v1/articles", data=raw, headers=headers), 201
                )

        return publish

    # -- weibo ---------------------------------------------------------------------------------

    def prepare_weibo(self, content: ArticleContent) -> Callable[[], Awaitable[None]]:
        form = {"access_token": c.WEIBO_TOKEN, "status": render_status(content).body, "rip": "127.0.0.1"}

        async def publish() -> None:
            async with self.slots:
                url = f"{self.urls['weibo']}/2/statuses/share.json"
                await self._expect(self.session.post(url, data=form), 200)

        return publish

    # -- wechat --------------------------------------------------------------------------------

    def prepare_wechat(self, content: ArticleContent) -> Callable[[], Awaitable[None]]:
        post = render_wechat(content)
        article = {
            "article_type": "news",
            "title": post.title,
            "digest": post.summary,
            "content": post.body,
            "content_source_url": post.link,
            "need_open_comment": 1,
            "only_fans_can_comment": 0,
        }

        async def publish() -> None:
            async with self.slots:
                thumb = await self._upload_thumb()
                draft = await self._wechat("draft/add", {"articles": [{**article, "thumb_media_id": thumb}]})
                submitted = await self._wechat("freepublish/submit", {"media_id": draft["media_id"]})
            await self._follow(str(submitted["publish_id"]))

        return publish

    async def _follow(self, publish_id: str) -> None:
        for _ in range(MAX_POLLS):
            await asyncio.sleep(c.POLL_SECONDS)
            async with self.slots:
                answer = await self._wechat("freepublish/get", {"publish_id": publish_id})
            if int(answer["publish_status"]) != 1:
                if int(answer["publish_status"]) != 0:
                    raise RuntimeError(f"wechat publish failed: {answer}")
                return
        raise RuntimeError(f"wechat publish {publish_id} never finished")

    async def _access_token(self) -> str:
        if self.token is None:  # the first caller fetches; everyone else awaits the same answer
            self.token = asyncio.get_running_loop().create_future()
            self.token_fetches += 1
            body = {"grant_type": "client_credential", "appid": c.WECHAT_APP_ID, "secret": c.WECHAT_SECRET}
            url = f"{self.urls['wechat']}/cgi-bin/stable_token"
            async with self.session.post(url, json={**body, "force_refresh": False}) as response:
                self.token.set_result(str((await response.json())["access_token"]))
        return await self.token

    async def _upload_thumb(self) -> str:
        form = aiohttp.FormData()
        form.add_field("media", self.cover, filename=c.COVER.name, content_type="image/png")
        answer = await self._wechat("material/add_material", None, form=form, params={"type": "thumb"})
        return str(answer["media_id"])

    async def _wechat(
        self,
        path: str,
        body: dict[str, Any] | None,
        *,
        form: aiohttp.FormData | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        query = {**(params or {}), "access_token": await self._access_token()}
        url = f"{self.urls['wechat']}/cgi-bin/{path}"
        if body is not None:
            headers = {"content-type": "application/json"}
            request = self.session.post(url, params=query, data=_json_bytes(body), headers=headers)
        else:
            request = self.session.post(url, params=query, data=form)
        async with request as response:
            answer: dict[str, Any] = await response.json(content_type=None)
        if answer.get("errcode"):
            raise RuntimeError(f"wechat {path}: {answer}")
        return answer

    async def _expect(self, request: Any, status: int) -> None:
        async with request as response:
            await response.read()
            if response.status != status:
                raise RuntimeError(f"{response.url}: HTTP {response.status} {await response.text()}")


async def run_baseline(
    urls: dict[str, str],
    articles: Sequence[dict[str, Any]],
    platforms: Sequence[str],
    *,
    concurrency: int,
    tag: str,
) -> BaselineResult:
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        baseline = Baseline(urls, concurrency, tag, session)
        jobs = _prepare(baseline, articles, platforms)
        cpu0, start = time.process_time(), time.monotonic()
        outcomes = await asyncio.gather(*(job() for job in jobs), return_exceptions=True)
        seconds, cpu = time.monotonic() - start, time.process_time() - cpu0
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    if failures:
        print(f"  baseline: {len(failures)} failures, first: {failures[0]!r}")
    return BaselineResult(len(jobs), len(failures), seconds, cpu, baseline.token_fetches)


def _prepare(
    baseline: Baseline, articles: Sequence[dict[str, Any]], platforms: Sequence[str]
) -> list[Callable[[], Awaitable[None]]]:
    jobs: list[Callable[[], Awaitable[None]]] = []
    for index, article in enumerate(articles):
        content = content_of(article)
        if "app" in platforms:
            jobs.append(baseline.prepare_app(index, content))
        if "wechat" in platforms:
            jobs.append(baseline.prepare_wechat(content))
        if "weibo" in platforms:
            jobs.append(baseline.prepare_weibo(content))
    return jobs
