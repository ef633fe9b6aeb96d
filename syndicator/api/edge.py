"""The request edge: every body is read, capped and screened before any route code runs.

A pure ASGI middleware, so that no route, dependency or transaction ever waits on the network: a
client that sends 5 of 100,000 declared bytes holds only this coroutine, never the database's
write lock or a pooled connection (issue 12, findings 1 and 8). It also refuses, for every route
at once, what the database would choke on later: NUL characters and integers beyond 64 bits in
the query string or a JSON body (422 naming the field).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

INT64_MAX = 2**63 - 1
NUL = "\x00"


class ClientGone(Exception):
    """The client hung up before its body arrived: there is no one to answer."""


class EdgeRefusal(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        self.status, self.detail = status, detail


class RequestEdge:
    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int], read_timeout: float) -> None:
        self.app, self.limit_for, self.read_timeout = app, limit_for, read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_path(scope["path"])
            check_query(scope.get("query_string", b""))
            body = await self.read_body(scope, receive)
            check_body(scope, body)
        except EdgeRefusal as refusal:
            await respond(send, refusal.status, {"detail": refusal.detail})
            return
        except ClientGone:
            return
        await self.app(scope, replay(body, receive), send)

    async def read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.limit_for(scope["path"])
        declared = header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise EdgeRefusal(413, f"body larger than {limit} bytes")
        body = bytearray()
        try:
            async with asyncio.timeout(self.read_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise ClientGone
                    body.extend(message.get("body", b""))
                    if len(body) > limit:  # capped while reading, whatever the header said
                        raise EdgeRefusal(413, f"body larger than {limit} bytes")
                    if not message.get("more_body", False):
                        return bytes(body)
        except TimeoutError:
            raise EdgeRefusal(408, f"the body did not arrive within {self.read_timeout:g} s") from None


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


def replay(body: bytes, receive: Receive) -> Receive:
    """Hand the app the body already read; after that, wait for the disconnect as usual."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    raw = json.dumps(payload, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def problem(loc: list[str | int], message: str) -> list[dict[str, Any]]:
    """FastAPI's validation-error shape, plus the `field` / `message` pair the webhook uses."""
    field = ".".join(str(part) for part in loc[1:]) or loc[0]
    return [{"loc": loc, "msg": message, "type": "value_error", "field": field, "message": message}]


def check_query(query_string: bytes) -> None:
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if NUL in name:
            raise EdgeRefusal(422, problem(["query", name], "NUL characters are not allowed"))
        # Integer parameters are declared with their bounds (DbId, limit): FastAPI answers 422 for
        # them. Judging every digit string here would refuse signatures and nonces that are digits.
        screen(["query", name], value)


def check_path(path: str) -> None:
    """Ids in the path go to the database as BIGINT: refuse what does not fit before a route runs."""
    if NUL in path:
        raise EdgeRefusal(422, problem(["path"], "NUL characters are not allowed"))
    for segment in path.split("/"):
        check_integer(["path", segment[:30]], segment)


def check_integer(loc: list[str | int], value: str) -> None:
    digits = value.strip().lstrip("+-")
    if digits.isascii() and digits.isdigit() and (len(digits) > 19 or int(digits) > INT64_MAX):
        raise EdgeRefusal(422, problem(loc, "integer out of the 64-bit range"))


def check_body(scope: Scope, body: bytes) -> None:
    content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if not body:
        return
    if content_type == "application/x-www-form-urlencoded":
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            screen(["body", name], value)
    elif content_type == "application/json" or content_type.endswith("+json"):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return  # malformed JSON: the route's own parser names the problem
        walk(["body"], document)


def walk(loc: list[str | int], value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                raise EdgeRefusal(422, problem(loc, "NUL characters are not allowed in keys"))
            walk([*loc, key], item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            walk([*loc, index], item)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and abs(value) > INT64_MAX:
        raise EdgeRefusal(422, problem(loc, "integer out of the 64-bit range"))
    elif isinstance(value, str):
        screen(loc, value)


def screen(loc: list[str | int], value: str) -> None:
    if NUL in value:
        raise EdgeRefusal(422, problem(loc, "NUL characters are not allowed"))
