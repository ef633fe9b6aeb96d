"""One channel emulator in its own process: `python -m benchmarks.emulator_server app 18081`."""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from benchmarks.config import (
    APP_SECRET,
    WECHAT_APP_ID,
    WECHAT_PUBLISH_DELAY_SECONDS,
    WECHAT_SECRET,
    WEIBO_HOURLY_LIMIT,
    WEIBO_TOKEN,
)
from channels.app.emulator import create_app as create_app_emulator
from channels.wechat.emulator import create_app as create_wechat_emulator
from channels.weibo.emulator import create_app as create_weibo_emulator


def build(platform: str) -> FastAPI:
    if platform == "app":
        return create_app_emulator(APP_SECRET)
    if platform == "wechat":
        return create_wechat_emulator(
            app_id=WECHAT_APP_ID, app_secret=WECHAT_SECRET, publish_delay_seconds=WECHAT_PUBLISH_DELAY_SECONDS
        )
    if platform == "weibo":
        return create_weibo_emulator(
            access_token=WEIBO_TOKEN, safe_domains=("gov.cn",), hourly_limit=WEIBO_HOURLY_LIMIT
        )
    raise SystemExit(f"unknown platform {platform!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("platform", choices=("app", "wechat", "weibo"))
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    uvicorn.run(build(args.platform), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
