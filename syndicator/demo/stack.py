"""One way to stand Syndicator up against its channel emulators, shared by `syndicator demo`,
the fault-injection suite (tests/faults) and the benchmarks (benchmarks/).

Each of them picks its own credentials and clocks, then takes from here: the emulator apps (in
this process, or one process each with `python -m syndicator.demo.stack`), the units and accounts
seeded from the corpus, signed webhook deliveries, and the test of "every publication has
settled"; `syndicator.demo.processes` runs the `syndicator worker` subprocesses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from channels.app.emulator import create_app as create_app_emulator
from channels.signing import signed_headers
from channels.wechat.emulator import create_app as create_wechat_emulator
from channels.weibo.emulator import create_app as create_weibo_emulator
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.db import Database
from syndicator.models import Publication
from syndicator.pipeline.policy import TERMINAL_STATES

PLATFORMS = ("app", "wechat", "weibo")
HERE = Path(__file__).resolve().parent
COVER = HERE / "cover.png"  # most portal documents carry no image, and WeChat requires a cover
CORPUS_DIR = HERE / "corpus" / "portal-articles"
ARTICLES_PATH = "/api/v1/articles"
WECHAT_TITLE_MAX = 32  # derived titles fit whole, so the tag that tells them apart survives


# -- credentials and emulators ---------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """A stack's throw-away secrets: the webhook's, and per platform the variable naming its secret."""

    ingest_secret: str
    wechat_app_id: str
    secrets: dict[str, tuple[str, str]]  # platform -> (variable, value)

    def secret(self, platform: str) -> str:
        return self.secrets[platform][1]

    def secret_env(self, platform: str) -> str:
        return self.secrets[platform][0]

    def environ(self) -> dict[str, str]:
        return dict(self.secrets.values())


@dataclass(frozen=True)
class EmulatorOptions:
    wechat_publish_delay_seconds: float = 0.3
    weibo_hourly_limit: int = 30  # the platform's own: 30 shares an hour per authorised user
    weibo_token_ttl_seconds: float | None = 7 * 24 * 3600


@dataclass
class ShiftableClock:
    """An emulator's clock that a test can move forward (tokens expire, quotas reset)."""

    offset: float = 0.0

    def timestamp(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)


def emulator_app(
    platform: str, credentials: Credentials, options: EmulatorOptions, clock: ShiftableClock | None = None
) -> FastAPI:
    clock = clock or ShiftableClock()
    if platform == "app":
        return create_app_emulator(credentials.secret("app"))
    if platform == "wechat":
        return create_wechat_emulator(
            app_id=credentials.wechat_app_id,
            app_secret=credentials.secret("wechat"),
            publish_delay_seconds=options.wechat_publish_delay_seconds,
            clock=clock.timestamp,
        )
    if platform == "weibo":
        return create_weibo_emulator(
            access_token=credentials.secret("weibo"),
            safe_domains=("gov.cn",),
            hourly_limit=options.weibo_hourly_limit,
            token_ttl_seconds=options.weibo_token_ttl_seconds,
            clock=clock.now,
        )
    raise ValueError(f"unknown platform {platform!r}")


@dataclass
class Emulators:
    """The channel emulators of one stack, each on a loopback port of this process."""

    servers: dict[str, BackgroundServer]
    clocks: dict[str, ShiftableClock]
    fault_defaults: dict[str, Any] = field(default_factory=dict)  # e.g. how long a timeout hangs

    def url(self, platform: str) -> str:
        return self.servers[platform].url

    def urls(self) -> dict[str, str]:
        return {platform: server.url for platform, server in self.servers.items()}

    def state(self, platform: str) -> dict[str, Any]:
        return emulator_state(self.url(platform))

    def inject(self, platform: str, **plan: Any) -> None:
        inject_faults(self.url(platform), **{**self.fault_defaults, **plan})

    def injected(self, *, ignore_paths: tuple[str, ...] = ()) -> Counter[str]:
        counts: Counter[str] = Counter()
        for platform in self.servers:
            answer = httpx.get(f"{self.url(platform)}/_emulator/faults", timeout=10).json()
            for fault in answer["injected"]:
                if not any(path in fault["path"] for path in ignore_paths):
                    counts[f"{platform}:{fault['kind']}"] += 1
        return counts

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def start_emulators(
    credentials: Credentials, options: EmulatorOptions, platforms: Sequence[str] = PLATFORMS
) -> Emulators:
    clocks = {platform: ShiftableClock() for platform in platforms}
    servers = {
        platform: BackgroundServer(emulator_app(platform, credentials, options, clocks[platform])).start()
        for platform in platforms
    }
    return Emulators(servers, clocks)


def emulator_state(url: str) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{url}/_emulator/state", timeout=10).json()
    return state


def inject_faults(url: str, **plan: Any) -> None:
    """Replace the emulator's fault plan (channels.faults.FaultPlan); no argument clears it."""
    httpx.post(f"{url}/_emulator/faults", json=plan, timeout=10).raise_for_status()


def emulator_command(
    platform: str, port: int, credentials: Credentials, options: EmulatorOptions
) -> list[str]:
    """The argv of one emulator in a process of its own (see `main`). The platform secret stays
    in its variable: the process must inherit `credentials.environ()`."""
    spec = {
        "wechat_app_id": credentials.wechat_app_id,
        "secret_env": credentials.secret_env(platform),
        "options": asdict(options),
    }
    return [sys.executable, "-m", "syndicator.demo.stack", platform, str(port), json.dumps(spec)]


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve one channel emulator on a loopback port.")
    parser.add_argument("platform", choices=PLATFORMS)
    parser.add_argument("port", type=int)
    parser.add_argument("spec", help="JSON, as emulator_command writes it")
    args = parser.parse_args()
    spec = json.loads(args.spec)
    secret = (spec["secret_env"], os.environ[spec["secret_env"]])
    credentials = Credentials("", spec["wechat_app_id"], {args.platform: secret})
    app = emulator_app(args.platform, credentials, EmulatorOptions(**spec["options"]))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


# -- units, accounts and articles ------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    name: str
    level: str
    portal: str
    platforms: tuple[str, ...] = PLATFORMS


def corpus(corpus_dir: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(corpus_dir.glob("*.json"))]


def units_of(articles: Iterable[dict[str, Any]], platforms: tuple[str, ...] = PLATFORMS) -> list[UnitSpec]:
    """The units the articles come from, each with an account on every platform."""
    first: dict[str, dict[str, Any]] = {}
    for article in articles:
        first.setdefault(article["unit"], article)
    return [
        UnitSpec(unit, a["unit_level"], a["source_portal"], platforms) for unit, a in sorted(first.items())
    ]


def derived_articles(count: int, tag: str = "f", unit: str | None = None) -> list[dict[str, Any]]:
    """`count` distinct articles cycled from the corpus: own external id, URL and title."""
    base = corpus()
    articles = []
    for index in range(count):
        article = dict(base[index % len(base)])
        stem = article["url"].removesuffix(".html")
        article["external_id"] = f"{article['external_id']}-{tag}{index:02d}"
        article["title"] = f"（{tag}{index:02d}）{article['title']}"[:WECHAT_TITLE_MAX]
        article["url"] = f"{stem}-{tag}{index:02d}.html"
        if unit is not None:
            article["unit"] = unit
        articles.append(article)
    return articles


async def seed_accounts(
    db: Database, units: Iterable[UnitSpec], urls: dict[str, str], credentials: Credentials, *, actor: str
) -> None:
    """Each unit and its accounts, pointed at the emulators; the secrets stay in their variables."""
    async with db.transaction() as session:
        for unit in units:
            await admin.add_unit(session, unit.name, unit.level, None, actor=actor)
            for platform in unit.platforms:
                wechat = {"app_id": credentials.wechat_app_id, "default_cover": str(COVER)}
                await admin.add_account(
                    session,
                    unit=unit.name,
                    platform=platform,
                    name=f"{unit.name}-{platform}",
                    api_base_url=urls[platform],
                    secret_env=credentials.secret_env(platform),
                    safe_domain=unit.portal,
                    actor=actor,
                    **(wechat if platform == "wechat" else {}),
                )


# -- deliveries and outcomes -----------------------------------------------------------------------


def signed_delivery(
    secret: str, article: dict[str, Any] | bytes, now: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers a portal sends to the webhook (POST /api/v1/articles); a body given
    as bytes (bad input, in tests) is signed as it is."""
    body = article if isinstance(article, bytes) else json.dumps(article, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **signed_headers(secret, "POST", ARTICLES_PATH, body, now)}
    return body, headers


async def deliver(
    api_url: str,
    articles: Sequence[dict[str, Any]],
    secret: str,
    *,
    concurrency: int = 4,
    timestamps: Sequence[float] | None = None,
) -> list[httpx.Response]:
    """Sign and post each article (a re-sent delivery is signed afresh); the answers in order."""
    limit = asyncio.Semaphore(concurrency)
    times: Sequence[float | None] = timestamps or [None] * len(articles)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:

        async def one(article: dict[str, Any], now: float | None) -> httpx.Response:
            async with limit:
                body, headers = signed_delivery(secret, article, now)
                return await client.post(ARTICLES_PATH, content=body, headers=headers)

        return list(await asyncio.gather(*(one(a, t) for a, t in zip(articles, times, strict=True))))


async def publication_states(reader: AsyncEngine) -> Counter[str]:
    """How many publications are in each state, read without taking SQLite's write lock."""
    async with reader.connect() as connection:
        rows = await connection.execute(select(Publication.state))
        return Counter(state for (state,) in rows.all())


def settled(states: Counter[str], expected: int) -> bool:
    """At least `expected` publications exist and none is still in flight."""
    return sum(states.values()) >= expected and set(states) <= set(TERMINAL_STATES)


if __name__ == "__main__":
    main()
