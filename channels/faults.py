"""Fault injection shared by the channel emulators.

Each emulator wraps its FastAPI app in `FaultInjectionMiddleware` and mounts the control routes
from `fault_control_router`, so tests, the demo and the fault suite steer every emulator the same
way over HTTP (`POST /_emulator/faults`). Platform-specific error answers (a WeChat errcode, a
Weibo error_code) are injected with kind `answer`: the emulator's own error JSON, sent instead of
calling the real handler.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/_emulator"

FaultKind = Literal[
    "status",  # answer with `status` before the handler runs: nothing committed
    "answer",  # answer with `status` and `body` (a platform error JSON): nothing committed
    "timeout_before",  # hang before the handler runs: the client times out, nothing committed
    "timeout_after",  # run the handler (commit), then hang: the client times out after commit
    "drop_after",  # run the handler (commit), then drop the connection mid-response
]


class Fault(BaseModel):
    kind: FaultKind
    status: int = 503
    body: dict[str, Any] | None = None
    headers: dict[str, str] = {}
    path: str | None = None  # only calls whose path contains this text
    after: int = 0  # let this many matching calls through first (the error on the Nth call)


class FaultPlan(BaseModel):
    latency_ms: float = 0
    hang_seconds: float = 30
    queue: list[Fault] = []
    random_rate: float = 0.0  # share of calls that get one of `random_faults`
    random_faults: list[Fault] = []
    seed: int | None = None


@dataclass
class FaultInjector:
    plan: FaultPlan = field(default_factory=FaultPlan)
    injected: list[dict[str, Any]] = field(default_factory=list)
    _rng: random.Random = field(default_factory=random.Random)

    def configure(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed)

    def reset(self) -> None:
        self.configure(FaultPlan())
        self.injected.clear()

    def take(self, path: str) -> Fault | None:
        for index, fault in enumerate(self.plan.queue):
            if fault.path and fault.path not in path:
                continue
            if fault.after > 0:
                fault.after -= 1
                return None
            del self.plan.queue[index]
            return self._record(fault, path)
        candidates = [f for f in self.plan.random_faults if not f.path or f.path in path]
        if candidates and self._rng.random() < self.plan.random_rate:
            return self._record(self._rng.choice(candidates), path)
        return None

    def _record(self, fault: Fault, path: str) -> Fault:
        self.injected.append({"kind": fault.kind, "status": fault.status, "path": path})
        return fault


class FaultInjectionMiddleware:
    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        plan = self.injector.plan
        if plan.latency_ms:
            await asyncio.sleep(plan.latency_ms / 1000)
        fault = self.injector.take(scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind in ("status", "answer"):
            await _send_json(send, fault.status, fault.body or {"error": "injected fault"}, fault.headers)
        elif fault.kind == "timeout_before":
            await asyncio.sleep(plan.hang_seconds)
            await _send_json(send, 504, {"error": "injected timeout"})
        else:
            await self._commit_then_fail(fault, scope, receive, send)

    async def _commit_then_fail(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if fault.kind == "timeout_after":
            await asyncio.sleep(self.injector.plan.hang_seconds)
            for message in held:
                await send(message)
            return
        # drop_after: start the response, then fail; uvicorn closes the connection mid-response.
        await send(held[0])
        raise ConnectionAbortedError("injected: connection dropped after commit")


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def fault_control_router(injector: FaultInjector) -> APIRouter:
    router = APIRouter(prefix=CONTROL_PREFIX, include_in_schema=False)

    @router.post("/faults")
    async def set_faults(plan: FaultPlan) -> dict[str, str]:
        injector.configure(plan)
        return {"status": "ok"}

    @router.delete("/faults")
    async def clear_faults() -> dict[str, str]:
        injector.reset()
        return {"status": "ok"}

    @router.get("/faults")
    async def injected_faults() -> dict[str, Any]:
        return {"plan": injector.plan.model_dump(), "injected": injector.injected}

    return router
