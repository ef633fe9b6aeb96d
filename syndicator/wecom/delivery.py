"""Delivering the chat outbox (Notification) to WeCom: comment cards, card updates, alerts.

Each message gets a ChatDelivery row (frontend "wecom") that stays pending/failed with attempts,
last error and the next attempt time until WeCom accepted it, so nothing is lost while WeCom is
unreachable; a rate limit (45009/45033) defers the rest of the pass. Messages queued before WeCom
was switched on are not replayed beyond BACKLOG. Cards are rendered from the comment as it is at
delivery time, like Telegram's. A card update spends one of the card's response codes (from the
send, or the freshest from a button press); with none left the update goes out as a text message.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import ChannelError, PermanentError, RateLimitedError
from channels.http import make_http_client
from channels.wecom.client import WeComClient
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import ChatDelivery, Comment, Notification, utcnow
from syndicator.moderation.cards import STATE_LABELS, render_card
from syndicator.moderation.intake import CARD_KIND, CARD_UPDATE_KIND, SUPERSEDED_KIND, card_key
from syndicator.moderation.service import card_view
from syndicator.pipeline.policy import backoff_seconds
from syndicator.queue import connect
from syndicator.wecom.cards import task_id, template_card, void_card
from syndicator.wecom.client import audience, build_client

log = structlog.get_logger(__name__)

FRONTEND = "wecom"
BATCH_SIZE = 50
DELIVERY_INTERVAL = 2.0  # seconds between outbox passes
MAX_ATTEMPTS = 50
RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 1800.0
BACKLOG = timedelta(days=3)  # how far back a newly enabled front end picks messages up
CODE_TTL = timedelta(hours=71)  # response codes last 72 hours; keep a margin


async def deliver_pending(
    db: Database, client: WeComClient, settings: Settings, *, now: datetime | None = None
) -> int:
    """Send what is due; returns how many were delivered."""
    now = now or utcnow()
    sent = 0
    for notification, delivery in await _due(db, now):
        try:
            ref = await _deliver_one(db, client, settings, notification, now)
        except RateLimitedError as exc:
            await _mark_failed(db, notification, delivery, exc, defer=exc.retry_after)
            break
        except PermanentError as exc:
            await _mark_failed(db, notification, delivery, exc)
        except ChannelError as exc:  # WeCom unreachable or busy: the rest wait for the next pass
            await _mark_failed(db, notification, delivery, exc)
            break
        else:
            await _mark_sent(db, notification, delivery, ref)
            sent += 1
    return sent


async def _due(db: Database, now: datetime) -> list[tuple[Notification, ChatDelivery | None]]:
    joined = and_(
        col(ChatDelivery.notification_id) == Notification.id, col(ChatDelivery.frontend) == FRONTEND
    )
    new = and_(col(ChatDelivery.id).is_(None), col(Notification.created_at) >= now - BACKLOG)
    retry = and_(
        col(ChatDelivery.state).in_(("pending", "failed")), col(ChatDelivery.attempts) < MAX_ATTEMPTS
    )
    async with db.transaction() as session:
        rows = (
            await session.exec(
                select(Notification, ChatDelivery)
                .outerjoin(ChatDelivery, joined)
                .where(or_(new, retry))
                .order_by(col(Notification.id))
                .limit(BATCH_SIZE)
            )
        ).all()
    return [(n, d) for n, d in rows if d is None or d.next_attempt_at is None or d.next_attempt_at <= now]


async def _deliver_one(
    db: Database, client: WeComClient, settings: Settings, notification: Notification, now: datetime
) -> dict[str, Any]:
    """Deliver one message; returns what to remember about it (the card's ids and codes)."""
    kind = (notification.payload or {}).get("kind")
    to = audience(settings, notification.chat_id)
    if kind == CARD_KIND:
        return await _send_card(db, client, notification, to)
    if kind == CARD_UPDATE_KIND:
        await _update_card(db, client, int(notification.payload["comment_id"]), to, now)
    elif kind != SUPERSEDED_KIND:  # a void card needs nothing: pressing it says it is void
        await client.send_text(to, notification.text)
    return {}


async def _send_card(
    db: Database, client: WeComClient, notification: Notification, to: Any
) -> dict[str, Any]:
    revision = notification.payload.get("revision")
    async with db.transaction() as session:
        comment = await session.get(Comment, int(notification.payload["comment_id"]))
        if comment is None or comment.revision != revision:
            return {}  # an edit superseded this card; its own card is queued
        view = await card_view(session, comment)
    task = task_id(view.comment_id, view.revision, secrets.token_hex(4))
    sent = await client.send_card(to, template_card(view, task))
    codes = [{"code": sent.response_code, "at": utcnow().isoformat()}] if sent.response_code else []
    log.info("wecom_card_sent", comment_id=view.comment_id, task_id=task, msgid=sent.msgid)
    if view.revision > 1:
        await _void_earlier_card(db, client, view.comment_id, view.revision)
    return {"task_id": task, "msgid": sent.msgid, "codes": codes}


async def _void_earlier_card(db: Database, client: WeComClient, comment_id: int, revision: int) -> None:
    """The author edited the comment: the previous revision's card is greyed out and says so.

    Best effort: the new card is already out, and a press on the old one is told it is void.
    """
    async with db.transaction() as session:
        earlier = await card_delivery(session, comment_id, revision - 1)
    if earlier is None:
        return
    for code in _fresh_codes(earlier.ref, utcnow()):
        await _forget_code(db, earlier.id, code)
        try:
            await client.update_card(
                code, void_card(comment_id, revision, str(earlier.ref.get("task_id") or ""))
            )
        except PermanentError:
            continue
        except ChannelError as exc:
            log.warning("wecom_void_card_failed", comment_id=comment_id, error=str(exc))
        return


async def _update_card(db: Database, client: WeComClient, comment_id: int, to: Any, now: datetime) -> None:
    async with db.transaction() as session:
        comment = await session.get(Comment, comment_id)
        card = await card_delivery(session, comment_id, comment.revision) if comment else None
        if comment is None or card is None:
            return  # no card yet: when it is sent it shows the current state anyway
        view = await card_view(session, comment)
    task = str(card.ref.get("task_id") or "")
    for code in _fresh_codes(card.ref, now):
        await _forget_code(db, card.id, code)  # spent whatever happens: a code is good for one call
        try:
            await client.update_card(code, template_card(view, task))
        except PermanentError as exc:  # used or expired code: try the next one
            log.info("wecom_card_code_refused", comment_id=comment_id, error=str(exc))
            continue
        return
    # No usable code (72 hours passed, or all spent): say it in a message instead.
    state = STATE_LABELS.get(view.state, view.state)
    await client.send_text(to, f"评论 #{comment_id} 卡片更新（{state}）\n\n{render_card(view)}")


async def card_delivery(session: AsyncSession, comment_id: int, revision: int) -> ChatDelivery | None:
    """The WeCom delivery of the comment revision's card, once sent."""
    row = await session.exec(
        select(ChatDelivery)
        .join(Notification, col(Notification.id) == ChatDelivery.notification_id)
        .where(
            Notification.key == card_key(comment_id, revision),
            ChatDelivery.frontend == FRONTEND,
            ChatDelivery.state == "sent",
        )
    )
    return row.first()


async def remember_code(session: AsyncSession, comment_id: int, revision: int, code: str) -> bool:
    """A button press brought a fresh response code for the card: keep it for the next update."""
    card = await card_delivery(session, comment_id, revision)
    if card is None:
        return False
    codes = [*card.ref.get("codes", []), {"code": code, "at": utcnow().isoformat()}]
    card.ref = {**card.ref, "codes": codes}
    session.add(card)
    return True


def _fresh_codes(ref: dict[str, Any], now: datetime) -> list[str]:
    """Newest first: a press's code is the freshest; the send's stays as the spare."""
    codes = [c for c in ref.get("codes", []) if datetime.fromisoformat(c["at"]) > now - CODE_TTL]
    return [c["code"] for c in reversed(codes)]


async def _forget_code(db: Database, delivery_id: int | None, code: str) -> None:
    async with db.transaction() as session:
        card = await session.get(ChatDelivery, delivery_id)
        if card is not None:
            card.ref = {**card.ref, "codes": [c for c in card.ref.get("codes", []) if c["code"] != code]}
            session.add(card)


async def _mark_sent(
    db: Database, notification: Notification, delivery: ChatDelivery | None, ref: dict[str, Any]
) -> None:
    async with db.transaction() as session:
        row = await _row(session, notification, delivery)
        row.state, row.sent_at, row.attempts, row.last_error = "sent", utcnow(), row.attempts + 1, None
        row.ref = {**row.ref, **ref}
        session.add(row)


async def _mark_failed(
    db: Database,
    notification: Notification,
    delivery: ChatDelivery | None,
    exc: ChannelError,
    *,
    defer: float | None = None,
) -> None:
    async with db.transaction() as session:
        row = await _row(session, notification, delivery)
        row.attempts += 1
        delay = (
            defer
            if defer is not None
            else backoff_seconds(row.attempts, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS)
        )
        row.state, row.last_error = "failed", f"{type(exc).__name__}: {exc}"[:1000]
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        session.add(row)
        attempts = row.attempts
    log.warning(
        "wecom_delivery_failed",
        notification_id=notification.id,
        attempts=attempts,
        retry_in_seconds=round(delay, 1),
        error=str(exc),
    )


async def _row(
    session: AsyncSession, notification: Notification, delivery: ChatDelivery | None
) -> ChatDelivery:
    if delivery is not None and delivery.id is not None:
        found = await session.get(ChatDelivery, delivery.id)
        if found is not None:
            return found
    assert notification.id is not None
    return ChatDelivery(notification_id=notification.id, frontend=FRONTEND)


async def deliver_forever(
    db: Database, settings: Settings, *, every_seconds: float = DELIVERY_INTERVAL
) -> None:
    """The chat process sends the outbox to WeCom beside Telegram's; rows wait in the database."""
    redis = await connect(settings.redis_url, settings.queue_name)
    async with make_http_client(settings.channel_timeout_seconds) as http:
        client = build_client(settings, http, redis)
        try:
            while True:
                try:
                    await deliver_pending(db, client, settings)
                except Exception:  # a bad pass must not stop delivery; the rows stay pending
                    log.exception("wecom_delivery_pass_failed")
                await asyncio.sleep(every_seconds)
        finally:
            await redis.aclose()
