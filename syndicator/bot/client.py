"""Building the aiogram Bot from Settings: the token and the Bot API server (a test server if set)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer

from syndicator.config import Settings

# Seconds before a Bot API call is given up (a long poll adds its own timeout on top).
REQUEST_TIMEOUT_SECONDS = 15


class TelegramNotConfiguredError(RuntimeError):
    """SYNDICATOR_TELEGRAM_TOKEN is empty."""


def build_bot(settings: Settings) -> Bot:
    token = settings.telegram_token.get_secret_value()
    if not token:
        raise TelegramNotConfiguredError(
            "SYNDICATOR_TELEGRAM_TOKEN is not set: create a bot with @BotFather and set its token"
        )
    url = settings.telegram_api_url.rstrip("/")
    api = PRODUCTION if url == "https://api.telegram.org" else TelegramAPIServer.from_base(url)
    return Bot(token=token, session=AiohttpSession(api=api, timeout=REQUEST_TIMEOUT_SECONDS))
