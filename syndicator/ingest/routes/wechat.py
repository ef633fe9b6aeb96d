"""WeChat's server push (服务器配置): URL verification and the PUBLISHJOBFINISH event.

The push only tells us a publish job finished; the poll job reads the outcome from
`freepublish/get` and records it, so a forged or replayed push can at worst cause one extra read.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from sqlmodel import select

from channels.wechat.callback import CallbackRejectedError, read_publish_callback, verify_signature
from syndicator.ingest.deps import StateDep
from syndicator.models import ChannelAccount, Publication, PublicationState
from syndicator.queue import enqueue_poll

router = APIRouter(prefix="/api/v1/channels/wechat", tags=["channels"])


@router.get("/{account_id}/callback", response_class=PlainTextResponse)
async def verify_url(account_id: int, request: Request, state: StateDep) -> str:
    """WeChat checks the URL once when it is configured: echo `echostr` if the signature is ours."""
    try:
        verify_signature(state.settings.wechat_callback_token.get_secret_value(), request.query_params)
    except CallbackRejectedError as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    return request.query_params.get("echostr", "")


@router.post("/{account_id}/callback", response_class=PlainTextResponse)
async def publish_finished(account_id: int, request: Request, state: StateDep) -> str:
    settings = state.settings
    async with state.db.transaction() as session:
        account = await session.get(ChannelAccount, account_id)
        if account is None or account.platform != "wechat":
            raise HTTPException(404, detail=f"no WeChat account {account_id}")
        try:
            event = read_publish_callback(
                await request.body(),
                request.query_params,
                token=settings.wechat_callback_token.get_secret_value(),
                encoding_aes_key=settings.wechat_encoding_aes_key.get_secret_value() or None,
                app_id=account.app_id,
            )
        except CallbackRejectedError as exc:
            raise HTTPException(403, detail=str(exc)) from exc
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
