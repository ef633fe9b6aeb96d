"""A fake Telegram Bot API server over real HTTP, for the bot and the notification deliverer.

It speaks the Bot API's wire format (`POST /bot{token}/{method}`, form or JSON parameters,
`{"ok": true, "result": ...}` answers), feeds queued updates to `getUpdates` (honouring `offset`
and, briefly, `timeout`), keeps the messages it was asked to send or edit, answers "message is not
modified" like Telegram does, and records every call. `stop()`/`start()` take it off the network
and bring it back on the same port, to play an unreachable Telegram.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from syndicator.background_server import BackgroundServer

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Syndicator", "username": "syndicator_bot"}
JSON_PARAMS = {"reply_markup", "allowed_updates", "entities", "reply_parameters", "link_preview_options"}
MAX_LONG_POLL_SECONDS = 0.5  # getUpdates waits at most this long for an update


@dataclass
class Call:
    method: str
    params: dict[str, Any]


def tg_user(user_id: int, name: str, username: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": name}
    if username:
        user["username"] = username
    return user


@dataclass
class FakeTelegram:
    token: str
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: BackgroundServer | None = None
    port: int = 0

    # -- running ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTelegram:
        self._server = BackgroundServer(self.app(), port=self.port).start()
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests feed in ------------------------------------------------------------------

    def push_update(self, body: dict[str, Any]) -> int:
        with self._lock:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **body})
        return update_id

    def take_updates(self) -> list[dict[str, Any]]:
        """Drain the queued updates, to hand them to `Dispatcher.feed_update` directly."""
        with self._lock:
            updates, self._updates = self._updates, []
        return updates

    def send_text(
        self, user: dict[str, Any], chat_id: int, text: str, *, reply_to: dict[str, Any] | None = None
    ) -> int:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return self.push_update({"message": message})

    def press(self, user: dict[str, Any], chat_id: int, message_id: int, data: str) -> int:
        message = self.messages[(chat_id, message_id)]
        with self._lock:
            query_id = f"cq-{len(self.calls)}-{message_id}-{user['id']}-{time.monotonic_ns()}"
        return self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": f"ci{chat_id}",
                    "message": message,
                    "data": data,
                }
            }
        )

    # -- what tests read back ----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for (chat, _), m in self.messages.items() if chat_id is None or chat == chat_id]

    def buttons(self, chat_id: int, message_id: int) -> dict[str, str]:
        """Button label -> callback_data of a message's inline keyboard."""
        markup = self.messages[(chat_id, message_id)].get("reply_markup") or {}
        return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}

    def answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self.calls_to("answerCallbackQuery")]

    async def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 10.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := predicate():
                return result
            await asyncio.sleep(0.02)
        raise AssertionError(
            f"timed out waiting for {what or predicate}; calls: {[c.method for c in self.calls]}"
        )

    # -- the Bot API -------------------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/bot{token}/{method}")
        async def method(token: str, method: str, request: Request) -> JSONResponse:
            if token != self.token:
                return _error(401, "Unauthorized")
            params = await _params(request)
            with self._lock:
                self.calls.append(Call(method, params))
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                return _error(404, "Not Found: method not found")
            result = await handler(params)
            return (
                result if isinstance(result, JSONResponse) else JSONResponse({"ok": True, "result": result})
            )

        return app

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), MAX_LONG_POLL_SECONDS)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": BOT_USER,
            "text": params["text"],
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        with self._lock:
            self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                return _error(400, "Bad Request: message to edit not found")
            markup = params.get("reply_markup")
            if message["text"] == params["text"] and message.get("reply_markup") == markup:
                return _error(400, "Bad Request: message is not modified")
            message["text"] = params["text"]
            message["edit_date"] = int(time.time())
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            return dict(message)


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": "评论审核群"}
    return {"id": chat_id, "type": "private", "first_name": "moderator"}


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": code, "description": description}, status_code=code)


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        return dict(await request.json())
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.items():
        text = value if isinstance(value, str) else (await value.read()).decode()
        params[key] = json.loads(text) if key in JSON_PARAMS else text
    return params
