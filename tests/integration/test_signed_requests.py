"""One signed-request dependency (syndicator/api/signed.py) verifies every request a caller signs
instead of holding a token: the portal webhook, the withdrawal, the app comments push and the
WeChat and WeCom callbacks (issue 15 §4)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import SecretStr
from sqlmodel import select

from syndicator.api import articles, comments, wechat_callback, wecom_callback
from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.models import RefusalCount

pytestmark = pytest.mark.integration

SIGNED_ROUTES = {
    ("POST", "/api/v1/articles"),
    ("DELETE", "/api/v1/articles/{article_id}"),
    ("POST", "/api/v1/channels/app/comments"),
    ("GET", "/api/v1/channels/wechat/{account_id}/callback"),
    ("POST", "/api/v1/channels/wechat/{account_id}/callback"),
    ("GET", "/api/v1/chat/wecom/callback"),
    ("POST", "/api/v1/chat/wecom/callback"),
}


def calls(dependant: Dependant) -> set[str]:
    found = {getattr(dependant.call, "__qualname__", "")}
    for sub in dependant.dependencies:
        found |= calls(sub)
    return found


def test_every_signed_route_goes_through_the_one_dependency() -> None:
    routes = {
        (method, route.path): route
        for module in (articles, comments, wechat_callback, wecom_callback)
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert SIGNED_ROUTES <= routes.keys()
    one = "signed_request.<locals>.dependency"
    assert [key for key in SIGNED_ROUTES if one not in calls(routes[key].dependant)] == []


async def test_a_forged_wecom_callback_is_refused_and_counted(db, settings) -> None:
    """Like every other signed route, a WeCom callback that does not verify is counted."""
    wecom = settings.model_copy(
        update={
            "chat_frontends": ["wecom"],
            "wecom_corp_id": "ww0123456789",
            "wecom_callback_token": SecretStr("token"),
            "wecom_encoding_aes_key": SecretStr("a" * 43),
        }
    )
    forged = {"msg_signature": "0" * 40, "timestamp": "1", "nonce": "n", "echostr": "abc"}
    with BackgroundServer(create_app(wecom)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            answer = await api.get("/api/v1/chat/wecom/callback", params=forged)
    assert answer.status_code == 403
    async with db.transaction() as session:
        counted = (await session.exec(select(RefusalCount.action))).all()
    assert "wecom.callback_rejected" in counted


@pytest.mark.parametrize("account_id", ["0", "abc"])
async def test_a_wechat_callback_for_a_malformed_id_is_refused_as_before(api, account_id) -> None:
    """The scheme runs before FastAPI validates the path: it refuses a bad id with the same 422."""
    answer = await api.get(f"/api/v1/channels/wechat/{account_id}/callback")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["path", "account_id"]
