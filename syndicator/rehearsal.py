"""`syndicator emulators`: the channel emulators on their own, for an office's offline rehearsal.

Each emulator speaks its platform's wire protocol (channels/<platform>/emulator.py) with fixed
rehearsal credentials; the command prints them and the `accounts add` lines that point a unit's
accounts at the emulators, so the whole installation can be exercised without any platform.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from channels.app.emulator import create_app as create_app_emulator
from channels.wechat.emulator import create_app as create_wechat_emulator
from channels.weibo.emulator import create_app as create_weibo_emulator

COVER = Path(__file__).resolve().parent / "demo" / "cover.png"
WECHAT_APP_ID = "wxrehearsal00000001"


@dataclass(frozen=True)
class Emulated:
    platform: str
    secret_env: str
    secret: str
    options: tuple[tuple[str, str], ...]
    build: Callable[[], ASGIApp]


EMULATED = {
    "app": Emulated(
        "app",
        "REHEARSAL_APP_SECRET",
        "rehearsal-app-secret",
        (),
        lambda: create_app_emulator("rehearsal-app-secret"),
    ),
    "wechat": Emulated(
        "wechat",
        "REHEARSAL_WECHAT_SECRET",
        "rehearsal-wechat-secret",
        (("--app-id", WECHAT_APP_ID), ("--default-cover", str(COVER))),
        lambda: create_wechat_emulator(app_id=WECHAT_APP_ID, app_secret="rehearsal-wechat-secret"),
    ),
    "weibo": Emulated(
        "weibo",
        "REHEARSAL_WEIBO_TOKEN",
        "rehearsal-weibo-token",
        (("--safe-domain", "gov.cn"),),  # the emulator accepts links on any gov.cn host
        lambda: create_weibo_emulator(access_token="rehearsal-weibo-token", token_ttl_seconds=None),
    ),
}


@dataclass(frozen=True)
class Running:
    emulated: Emulated
    url: str


def plan(platforms: list[str], host: str, port: int) -> list[Running]:
    """Each chosen platform on consecutive ports from `port`."""
    unknown = [p for p in platforms if p not in EMULATED]
    if unknown:
        raise ValueError(f"unknown platform(s) {unknown}; choose from {', '.join(EMULATED)}")
    return [Running(EMULATED[p], f"http://{host}:{port + i}") for i, p in enumerate(platforms)]


def instructions(running: list[Running], unit: str) -> str:
    """The credentials to export and the `accounts add` lines that use the emulators."""
    lines = ["# Credentials (set them where the worker and the CLI run):"]
    lines += [f"export {r.emulated.secret_env}={r.emulated.secret}" for r in running]
    lines += ["", "# Accounts for a unit (add the unit first: syndicator units add NAME --level county):"]
    for r in running:
        words = [
            "syndicator", "accounts", "add", "--unit", unit, "--platform", r.emulated.platform,
            "--name", f"{unit}-{r.emulated.platform}-rehearsal", "--api-base-url", r.url,
            "--secret-env", r.emulated.secret_env,
        ]  # fmt: skip
        for flag, value in r.emulated.options:
            words += [flag, value]
        lines.append(shlex.join(words))
    lines += ["", "# Then: syndicator accounts verify --unit " + shlex.quote(unit)]
    return "\n".join(lines)


async def serve(running: list[Running], host: str) -> None:
    """Serve every emulator until interrupted."""
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                r.emulated.build(), host=host, port=int(r.url.rsplit(":", 1)[1]), log_level="warning"
            )
        )
        for r in running
    ]
    await asyncio.gather(*(server.serve() for server in servers))
