"""WeChat's server push (服务器配置): URL verification and the PUBLISHJOBFINISH event.

The push only tells us a publish job finished; the poll job reads the outcome from
`freepublish/get` and records it, so a forged or replayed push can at worst cause one extra read.
Both are verified by the one signed-request dependency (syndicator/api/signed.py, WeChatScheme).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlmodel import select

from channels.wechat.callback import PublishJobFinished
from syndicator.api.deps import DbId, StateDep, problems
from syndicator.api.signed import WeChatCallback
from syndicator.models import Publication, PublicationState
from syndicator.queue import enqueue_poll

router = APIRouter(prefix="/api/v1/channels/wechat", tags=["channels"])


# 403: a signature that does not check out; 404: not a WeChat account, or no callback token.
CALLBACK_PROBLEMS = problems(403, 404)


@router.get("/{account_id}/callback", response_class=PlainTextResponse, responses=CALLBACK_PROBLEMS)
async def verify_url(account_id: DbId, signed: WeChatCallback) -> str:
    """WeChat checks the URL once when it is configured: echo `echostr` if the signature is ours."""
    return str(signed.message)


@router.post("/{account_id}/callback", response_class=PlainTextResponse, responses=CALLBACK_PROBLEMS)
async def publish_finished(account_id: DbId, signed: WeChatCallback, state: StateDep) -> str:
    """The body is already read and capped by the request edge; no transaction is open while
    anything waits on the network, and the push is authenticated before the one that looks it up."""
    event: PublishJobFinished = signed.message
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
