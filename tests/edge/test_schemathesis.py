"""Schemathesis against a live `syndicator serve` (issue 12, "Proof in CI").

Every operation in the OpenAPI schema gets generated requests: signed ones are signed by the hook
below (the portal's secret, the app account's secret), the rest carry an admin's token. The
checks: no server error, and every status code and media type answered is documented (with a
body that matches its schema). Deterministic for CI: derandomized, a fixed number of examples,
no example database, no shrinking.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from channels.signing import signed_headers
from syndicator import admin
from tests.conftest import APP_SECRET, APP_SECRET_ENV, INGEST_SECRET
from tests.support import corpus_articles, post_signed, seed_units_with_app_accounts

# Per operation: valid requests, then requests that break the schema (which must be 4xx, never
# 5xx). About 400 requests in all: about a minute on SQLite on a busy machine.
MODES = [(GenerationMode.POSITIVE, 15), (GenerationMode.NEGATIVE, 10)]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLBACK_TOKEN = "callbacktoken"
PORTAL_SIGNED = {("POST", "/api/v1/articles"), ("DELETE", "/api/v1/articles/{article_id}")}
APP_SIGNED = {("POST", "/api/v1/channels/app/comments")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_api(settings, tmp_path) -> Iterator[str]:
    """`syndicator serve` in its own process, configured only through the environment."""
    port = free_port()
    env = {
        **os.environ,
        "SYNDICATOR_DATABASE_URL": settings.database_url,
        "SYNDICATOR_REDIS_URL": settings.redis_url,
        "SYNDICATOR_INGEST_SECRET": INGEST_SECRET,
        "SYNDICATOR_WECHAT_CALLBACK_TOKEN": CALLBACK_TOKEN,
        APP_SECRET_ENV: APP_SECRET,
    }
    command = [str(Path(sys.executable).with_name("syndicator")), "serve", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, server, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        print(log.read_text()[-20_000:])  # shown by pytest when the test failed


def wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"syndicator serve exited: {server.stderr.read().decode() if server.stderr else ''}"
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("syndicator serve did not come up")


async def seed(db, live_api: str, app_url: str) -> str:
    await seed_units_with_app_accounts(db, app_url, corpus_articles())
    async with db.transaction() as session:
        await admin.add_account(
            session,
            unit=corpus_articles()[0]["unit"],
            platform="wechat",
            name="wx",
            api_base_url=app_url,
            app_id="wx0123456789abcdef",
            secret_env="SYNDICATOR_TEST_WECHAT_SECRET",
            default_cover=str(Path(__file__).resolve().parents[2] / "syndicator" / "demo" / "cover.png"),
            actor="test",
        )
        await admin.add_user(
            session,
            "fuzzer",
            ["admin", "editor", "reviewer", "officer"],
            telegram_id=None,
            scope=None,
            actor="test",
        )
        token = await admin.issue_token(session, "fuzzer", actor="test")
    async with httpx.AsyncClient(base_url=live_api, timeout=10) as client:
        for article in corpus_articles():
            assert (await post_signed(client, article)).status_code == 202
    return token


def raw_body(case) -> bytes:
    return b"" if case.body is NOT_SET else json.dumps(case.body, ensure_ascii=False).encode()


def signing_headers(case, key: tuple[str, str]) -> dict[str, str]:
    """The hook that signs webhook requests: the exact bytes sent, with the route's secret."""
    secret = INGEST_SECRET if key in PORTAL_SIGNED else APP_SECRET
    return signed_headers(secret, case.method, case.formatted_path, raw_body(case))


def run_operation(operation, base_url: str, token: str, mode: GenerationMode, examples: int) -> None:
    key = (operation.method.upper(), operation.path)

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:
        if key in PORTAL_SIGNED | APP_SIGNED:
            headers = {"Content-Type": "application/json", **signing_headers(case, key)}
            response = case.call(base_url=base_url, headers=headers, data=raw_body(case))
        else:
            headers = {"Authorization": f"Bearer {token}"}
            response = case.call(base_url=base_url, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


@pytest.mark.timeout(240)
async def test_every_operation_holds_up_to_generated_requests(db, app_emulator, live_api) -> None:
    token = await seed(db, live_api, app_emulator.url)
    schema = schemathesis.openapi.from_url(f"{live_api}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for operation, (mode, examples) in itertools.product(operations, MODES):
        try:
            run_operation(operation, live_api, token, mode, examples)
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # nothing to break in an operation without inputs
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, not just the first
            failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
