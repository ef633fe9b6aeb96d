"""Finding 1: one anonymous socket that sends a few bytes of a large body froze the database.

Every route that takes a body gets such a client, all at once; meanwhile /healthz and a signed
webhook must answer as usual. On SQLite a route that opened its transaction before reading the
body held the global write lock (BEGIN IMMEDIATE) for as long as the client liked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from pathlib import Path

import httpx

from syndicator import admin
from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from tests.support import corpus_articles, post_signed, seed_units_with_app_accounts

DECLARED = 100_000
BODY_METHODS = {"post", "put", "patch", "delete"}


def body_routes(schema: dict) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in BODY_METHODS
    ]


def slow_client(port: int, method: str, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {DECLARED}\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"ti')  # five bytes of a hundred thousand, then nothing
    return sock


COVER = Path(__file__).resolve().parents[2] / "syndicator" / "demo" / "cover.png"


async def test_slow_bodies_hold_no_lock_healthz_and_the_webhook_answer(db, settings, app_emulator) -> None:
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())
    async with db.transaction() as session:
        unit = corpus_articles()[0]["unit"]
        wechat = await admin.add_account(
            session,
            unit=unit,
            platform="wechat",
            name="wx",
            api_base_url=app_emulator.url,
            app_id="wx0123456789abcdef",
            secret_env="TEST_WECHAT_SECRET",
            default_cover=str(COVER),
            actor="test",
        )
    settings = settings.model_copy(update={"wechat_callback_token": "token"})
    app = create_app(settings)
    routes = body_routes(app.openapi())
    assert ("POST", "/api/v1/channels/wechat/{account_id}/callback") in routes
    with BackgroundServer(app) as server:
        sockets = [
            slow_client(server.port, method, re.sub(r"\{[^}]+\}", str(wechat.id), path))
            for method, path in routes
        ]
        try:
            await asyncio.sleep(0.5)  # let the server start on every slow request
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                health = await client.get("/healthz")
                assert health.status_code == 200, health.text
                accepted = await post_signed(client, corpus_articles()[1])
                assert accepted.status_code == 202, accepted.text
                assert (await client.get("/healthz")).status_code == 200
        finally:
            for sock in sockets:
                sock.close()


async def test_a_body_larger_than_declared_is_cut_off_while_reading(db, settings) -> None:
    """Finding 8: a body is capped as it arrives, whatever Content-Length said (chunked here)."""
    settings = settings.model_copy(update={"api_max_body_bytes": 1024})
    with BackgroundServer(create_app(settings)) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        try:
            sock.sendall(
                b"POST /api/v1/channels/wechat/1/callback HTTP/1.1\r\nHost: x\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            with contextlib.suppress(OSError):  # the server may hang up mid-body
                for _ in range(64):
                    sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 413 ")
        finally:
            sock.close()
        sock = slow_client(server.port, "POST", "/api/v1/reviews/1/release")  # declares 100,000
        try:
            assert sock.recv(100).startswith(b"HTTP/1.1 413 ")
        finally:
            sock.close()


async def test_a_body_that_never_arrives_is_408_and_the_socket_freed(db, settings) -> None:
    settings = settings.model_copy(update={"body_read_timeout_seconds": 0.2})
    with BackgroundServer(create_app(settings)) as server:
        sock = slow_client(server.port, "POST", "/api/v1/articles")
        try:
            assert sock.recv(100).startswith(b"HTTP/1.1 408 ")
        finally:
            sock.close()
