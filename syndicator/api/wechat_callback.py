"""WeChat's server push (服务器配置): URL verification and the PUBLISHJOBFINISH event.

The push only tells us a publish job finished; the poll job reads the outcome from
`freepublish/get` and records it, so a forged or replayed push can at worst cause one extra read.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from sqlmodel import select

from channels.wechat.callback import CallbackRejectedError, read_publish_callback, verify_signature
from syndicator.api.deps import ApiState, DbId, StateDep, client_address, problems
from syndicator.models import ChannelAccount, Publication, PublicationState
from syndicator.queue import enqueue_poll
from syndicator.refusals import count_refusal

router = APIRouter(prefix="/api/v1/channels/wechat", tags=["channels"])


CALLBACK_PROBLEMS = problems(403, 404)


@router.get("/{account_id}/callback", response_class=PlainTextResponse, responses=CALLBACK_PROBLEMS)
async def verify_url(account_id: DbId, request: Request, state: StateDep) -> str:
    """WeChat checks the URL once when it is configured: echo `echostr` if the signature is ours."""
    token, _account = await callback_account(state, account_id)
    await verified(state, request, token)
    return request.query_params.get("echostr", "")


@router.post("/{account_id}/callback", response_class=PlainTextResponse, responses=CALLBACK_PROBLEMS)
async def publish_finished(account_id: DbId, request: Request, state: StateDep) -> str:
    """The body is already read and capped by the request edge; no transaction is open while
    anything waits on the network, and the push is authenticated before the one that looks it up."""
    settings = state.settings
    token, account = await callback_account(state, account_id)
    try:
        event = read_publish_callback(
            await request.body(),
            request.query_params,
            token=token,
            encoding_aes_key=settings.wechat_encoding_aes_key.get_secret_value() or None,
            app_id=account.app_id,
        )
    except CallbackRejectedError as exc:
        await refuse(state, request, str(exc))
        raise HTTPException(403, detail=str(exc)) from exc
    async with state.db.transaction() as session:
        publication = (
            await session.exec(
                select(Publication).where(
                    Publication.account_id == account_id,
                    Publication.state == PublicationState.SUBMITTED,
                    Publication.remote_id == event.publish_id,
                )
            )
        ).first()
    if publication is not None and publication.id is not None and state.redis is not None:
        await enqueue_poll(state.redis, publication.id, publication.generation, defer_by=0, suffix="callback")
    return "success"  # WeChat retries a push three times unless it reads this


async def callback_account(state: ApiState, account_id: int) -> tuple[str, ChannelAccount]:
    """The callback exists only for a WeChat account, and only once a token is configured."""
    token = state.settings.wechat_callback_token.get_secret_value()
    async with state.db.transaction() as session:
        account = await session.get(ChannelAccount, account_id)
    if account is None or account.platform != "wechat" or not token:
        raise HTTPException(404, detail=f"no WeChat callback for account {account_id}")
    return token, account


async def verified(state: ApiState, request: Request, token: str) -> None:
    try:
        verify_signature(token, request.query_params)
    except CallbackRejectedError as exc:
        await refuse(state, request, str(exc))
        raise HTTPException(403, detail=str(exc)) from exc


async def refuse(state: ApiState, request: Request, reason: str) -> None:
    await count_refusal(
        state.db, action="wechat.callback_rejected", reason=reason, source=client_address(request)
    )
