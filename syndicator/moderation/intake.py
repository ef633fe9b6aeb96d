"""Comment intake: dedupe on (platform, remote id), screen, store pending, queue the card.

An edited comment (same remote id, new content) becomes a new revision and goes back to
pending with a new card; its old card is marked superseded. Spam the screening flags for
automatic rejection is rejected by the system when `auto_reject_spam` is on; everything else
waits for a person (先审后发).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import RemoteComment
from syndicator.models import (
    ApplyState,
    Article,
    AuditEvent,
    ChannelAccount,
    Comment,
    CommentCategory,
    CommentState,
    Notification,
    Publication,
    utcnow,
)
from syndicator.moderation.cards import superseded_card_text
from syndicator.moderation.screening import Screener, default_screener, findings_as_dicts
from syndicator.notify import notify
from syndicator.workdays import WorkCalendar

log = structlog.get_logger(__name__)

SYSTEM_ACTOR = "system:screening"
REPLY_DAYS = 2  # 兴宁 兴市府办〔2014〕19号: citizens' messages answered within 2 working days
COMPLEX_REPLY_DAYS = 10
CORRECTION_FORWARD_DAYS = 1  # 江苏: netizen corrections forwarded within 1 working day …
CORRECTION_RESOLVE_DAYS = 2  # … and resolved within 2
AUTO_REJECT_REASON = "自动拒绝：垃圾信息"
CARD_KIND = "comment_card"
SUPERSEDED_KIND = "card_superseded"
CARD_UPDATE_KIND = "card_update"
_CHUNK = 500  # ids per IN (...) query
_SHANGHAI_OFFSET = timedelta(hours=8)


@dataclass
class IngestResult:
    new: list[int] = field(default_factory=list)
    revised: list[int] = field(default_factory=list)
    unchanged: int = 0
    auto_rejected: list[tuple[int, int]] = field(default_factory=list)  # (id, revision)
    provisional_due: list[int] = field(default_factory=list)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def card_key(comment_id: int, revision: int) -> str:
    return f"comment-card:{comment_id}:{revision}"


class DueDates:
    """Due dates per received day and category: a page of comments mostly shares one day."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._clocks: dict[tuple[date, str], dict[str, Any]] = {}

    def clock(self, received: datetime, category: str) -> dict[str, Any]:
        """`category_clock` of a new (not complex) comment received at `received` (UTC), cached:
        the same dict for the day, which callers only read."""
        # Shanghai has kept UTC+8 all year since 1991: the calendar's day without a zone lookup.
        key = ((received + _SHANGHAI_OFFSET).date(), category)
        clock = self._clocks.get(key)
        if clock is None:
            clock = self._clocks[key] = category_clock(self.calendar, received, category)
        return clock


def category_clock(
    calendar: WorkCalendar, received: datetime, category: str, *, complex_: bool = False
) -> dict[str, Any]:
    """The due-date columns for a comment of `category` received at `received`."""
    if category == CommentCategory.CORRECTION:
        forward = calendar.add_working_days(received, CORRECTION_FORWARD_DAYS)
        resolve = calendar.add_working_days(received, CORRECTION_RESOLVE_DAYS)
        provisional = forward.provisional or resolve.provisional
        return {"forward_due_at": forward.at, "reply_due_at": resolve.at, "due_provisional": provisional}
    due = calendar.add_working_days(received, COMPLEX_REPLY_DAYS if complex_ else REPLY_DAYS)
    return {"forward_due_at": None, "reply_due_at": due.at, "due_provisional": due.provisional}


@dataclass
class ScreenedPage:
    """A page of comments screened and turned into rows, before any database work: a poll screens
    the next page while this one is stored."""

    account: ChannelAccount
    latest: dict[str, RemoteComment]  # remote id -> comment: the same one twice in a page, the last
    rows: dict[str, dict[str, Any]]  # remote id -> comment row, article id and title still to fill
    now: datetime


def screen_page(
    account: ChannelAccount,
    comments: Sequence[RemoteComment],
    *,
    dues: DueDates,
    auto_reject_spam: bool = True,
    screen: Screener | None = None,
    now: datetime | None = None,
) -> ScreenedPage:
    """Screen a page and build its rows: CPU only, no database."""
    assert account.id is not None
    screen = screen or default_screener()
    now = now or utcnow()
    latest = {c.remote_id: c for c in comments}
    rows: dict[str, dict[str, Any]] = {}
    for remote in latest.values():
        screening = screen(remote.content)
        auto_reject = auto_reject_spam and bool(screening.auto_reject)
        received = _aware(remote.created_at)
        # The screening spots a likely netizen correction; a moderator can reclassify it.
        category = CommentCategory.CORRECTION if "correction" in screening.kinds else CommentCategory.MESSAGE
        rows[remote.remote_id] = {
            "platform": account.platform,
            "account_id": account.id,
            "remote_id": remote.remote_id,
            "remote_article_id": remote.remote_article_id,
            "author": remote.author,
            "content": remote.content,
            "content_hash": content_hash(remote.content),
            "revision": 1,
            "complex": False,
            "received_at": received,
            "category": category,
            **dues.clock(received, category),
            **_screened_fields(remote, screening, auto_reject=auto_reject, now=now),
        }
    return ScreenedPage(account, latest, rows, now)


async def ingest_comments(
    session: AsyncSession,
    account: ChannelAccount,
    comments: Sequence[RemoteComment],
    *,
    calendar: WorkCalendar,
    chat_id: int | None,
    auto_reject_spam: bool = True,
    screen: Screener | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Screen and store a page of comments from `account`. The caller commits."""
    dues = DueDates(calendar)
    page = screen_page(
        account, comments, dues=dues, auto_reject_spam=auto_reject_spam, screen=screen, now=now
    )
    return await store_page(session, page, chat_id=chat_id)


async def store_page(session: AsyncSession, page: ScreenedPage, *, chat_id: int | None) -> IngestResult:
    """Store a screened page. The caller commits (and stores the cursor with it).

    The page goes in with one INSERT … ON CONFLICT DO NOTHING: the unique (platform, remote_id)
    is the dedupe. Only the comments it skipped are looked up, by content hash without loading
    them; the edited ones among them are loaded and revised.
    """
    account, latest, rows, now = page.account, page.latest, page.rows, page.now
    assert account.id is not None
    titles = await _article_titles(session, account.id, {c.remote_article_id for c in latest.values()})
    for row in rows.values():
        article_id, title = titles.get(row["remote_article_id"], (None, ""))
        row["article_id"] = article_id
        row["extra"]["article_title"] = title or row["remote_article_id"]
    result = IngestResult()
    stored = await _insert(session, list(rows.values()))
    skipped = set(rows) - {row.remote_id for row in stored}
    known = await _known_hashes(session, account.platform, sorted(skipped))
    revised: list[Comment] = []
    for remote_id in sorted(skipped):
        fresh = rows[remote_id]
        if known.get(remote_id) == fresh["content_hash"]:
            result.unchanged += 1
            continue
        current = await _load(session, account.platform, remote_id)
        fields = {name: fresh[name] for name in _SCREENED_FIELDS}
        revised.append(
            _revise(session, current, latest[remote_id], fresh["content_hash"], fields, chat_id=chat_id)
        )
    if revised:
        await session.flush()
    stored += [_Stored.of(c) for c in revised]
    notifications: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for comment in stored:
        (result.revised if comment.revision > 1 else result.new).append(comment.id)
        if comment.due_provisional:
            result.provisional_due.append(comment.id)
        if comment.state == CommentState.REJECTED:
            result.auto_rejected.append((comment.id, comment.revision))
            audits.append(_auto_reject_event(comment, now))
        elif chat_id is not None:
            notifications.append(_card_notification(comment, chat_id, now))
    # The page's cards and audit events: one INSERT each, through Core (the ORM's bulk path costs
    # a third of the intake for nothing: these rows are never loaded as objects here).
    connection = await session.connection()
    if notifications:
        await connection.execute(insert(Notification.__table__), notifications)  # type: ignore[attr-defined]  # sqlmodel sets __table__ on table models but does not declare it
    if audits:
        await connection.execute(insert(AuditEvent.__table__), audits)  # type: ignore[attr-defined]  # sqlmodel sets __table__ on table models but does not declare it
    _log_page(account, result)
    return result


@dataclass(frozen=True)
class _Stored:
    id: int
    remote_id: str
    revision: int
    state: str
    due_provisional: bool
    kinds: list[str]

    @classmethod
    def of(cls, comment: Comment) -> _Stored:
        assert comment.id is not None
        kinds = list((comment.extra or {}).get("kinds", []))
        return cls(
            comment.id, comment.remote_id, comment.revision, comment.state, comment.due_provisional, kinds
        )


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> list[_Stored]:
    """New comments in one INSERT per page, ids back from RETURNING. A comment someone else stored
    meanwhile (a push racing a poll) hits the unique (platform, remote_id) and is skipped: it is
    in, once, with its own card."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Comment.__table__)  # type: ignore[attr-defined]  # sqlmodel sets __table__ on table models but does not declare it
        .on_conflict_do_nothing(index_elements=["platform", "remote_id"])
        .returning(Comment.__table__.c.id, Comment.__table__.c.remote_id)  # type: ignore[attr-defined]  # as above
    )
    inserted = await (await session.connection()).execute(statement, rows)
    ids = {remote_id: comment_id for comment_id, remote_id in inserted.all()}
    return [
        _Stored(
            ids[row["remote_id"]],
            row["remote_id"],
            1,
            row["state"],
            row["due_provisional"],
            row["extra"]["kinds"],
        )
        for row in rows
        if row["remote_id"] in ids
    ]


_SCREENED_FIELDS = (
    "extra",
    "screening",
    "state",
    "apply_state",
    "decided_at",
    "decision_reason",
    "updated_at",
)


def _screened_fields(
    remote: RemoteComment,
    screening: Any,
    *,
    auto_reject: bool,
    now: datetime,
) -> dict[str, Any]:
    extra = {
        "remote": dict(remote.extra),
        "masked_text": screening.masked_text,
        "kinds": sorted(screening.kinds),
    }
    fields: dict[str, Any] = {
        "extra": extra,
        "screening": findings_as_dicts(screening.findings),
        "state": CommentState.REJECTED if auto_reject else CommentState.PENDING,
        "apply_state": ApplyState.PENDING if auto_reject else ApplyState.NONE,
        "decided_at": now if auto_reject else None,
        "decision_reason": AUTO_REJECT_REASON if auto_reject else None,
        "updated_at": now,
    }
    return fields


def _revise(
    session: AsyncSession,
    comment: Comment,
    remote: RemoteComment,
    digest: str,
    fields: dict[str, Any],
    *,
    chat_id: int | None,
) -> Comment:
    """An edit: a new revision, back to pending; the old card is told it is void."""
    assert comment.id is not None
    if comment.card_chat_id is not None and comment.card_message_id is not None:
        session.add(
            Notification(
                key=f"comment-card-superseded:{comment.id}:{comment.revision}",
                chat_id=comment.card_chat_id,
                text=superseded_card_text(comment.id, comment.revision + 1),
                payload={"kind": SUPERSEDED_KIND, "message_id": comment.card_message_id},
            )
        )
    comment.revision += 1
    comment.content = remote.content
    comment.content_hash = digest
    comment.author = remote.author
    comment.decided_by = None
    comment.reply_text = None
    comment.replied_at = None
    comment.apply_error = None
    comment.card_chat_id = None
    comment.card_message_id = None
    for name, value in fields.items():
        setattr(comment, name, value)
    session.add(comment)
    return comment


async def queue_card_update(session: AsyncSession, comment: Comment) -> bool:
    """Every front end showing the comment's card redraws it (a decision from any of them).

    One update per state the comment reaches; queued only if the card itself was queued.
    """
    assert comment.id is not None
    chat_id = comment.card_chat_id
    if chat_id is None:
        found = await session.exec(
            select(Notification.chat_id).where(Notification.key == card_key(comment.id, comment.revision))
        )
        chat_id = found.first()
    if chat_id is None:
        return False
    flags = ":complex" if comment.complex else ""
    return await notify(
        session,
        key=f"comment-card-update:{comment.id}:{comment.revision}:{comment.state}{flags}:decided",
        chat_id=chat_id,
        text=f"评论 #{comment.id} 已处理",
        payload={"kind": CARD_UPDATE_KIND, "comment_id": comment.id},
    )


def _card_notification(comment: _Stored, chat_id: int, now: datetime) -> dict[str, Any]:
    return {
        "key": card_key(comment.id, comment.revision),
        "chat_id": chat_id,
        "text": f"💬 新评论 #{comment.id}",  # the deliverer renders the card from the current row
        "payload": {"kind": CARD_KIND, "comment_id": comment.id, "revision": comment.revision},
        "state": "pending",
        "attempts": 0,
        "created_at": now,
    }


def _auto_reject_event(comment: _Stored, now: datetime) -> dict[str, Any]:
    """The audit event of a rejection by the screening, as a row (what audit.record would add)."""
    return {
        "at": now,
        "actor": SYSTEM_ACTOR,
        "action": "comment.rejected",
        "object_type": "comment",
        "object_id": str(comment.id),
        "source": None,
        "detail": {"revision": comment.revision, "reason": AUTO_REJECT_REASON, "kinds": comment.kinds},
    }


async def _known_hashes(session: AsyncSession, platform: str, remote_ids: list[str]) -> dict[str, str]:
    """remote id -> content hash of the comments already stored (without loading them)."""
    found: dict[str, str] = {}
    for start in range(0, len(remote_ids), _CHUNK):
        chunk = remote_ids[start : start + _CHUNK]
        rows = await session.exec(
            select(Comment.remote_id, Comment.content_hash).where(
                Comment.platform == platform, col(Comment.remote_id).in_(chunk)
            )
        )
        found.update(rows.all())
    return found


async def _load(session: AsyncSession, platform: str, remote_id: str) -> Comment:
    query = select(Comment).where(Comment.platform == platform, Comment.remote_id == remote_id)
    return (await session.exec(query)).one()


async def _article_titles(
    session: AsyncSession, account_id: int, remote_article_ids: set[str]
) -> dict[str, tuple[int | None, str]]:
    """remote article id -> (our article id, its title), via the publication that put it there."""
    if not remote_article_ids:
        return {}
    rows = await session.exec(
        select(Publication.remote_id, Article.id, Article.title)
        .join(Article, col(Article.id) == Publication.article_id)
        .where(Publication.account_id == account_id, col(Publication.remote_id).in_(remote_article_ids))
    )
    return {remote_id: (article_id, title) for remote_id, article_id, title in rows.all() if remote_id}


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _log_page(account: ChannelAccount, result: IngestResult) -> None:
    if result.new or result.revised or result.auto_rejected:
        log.info(
            "comments_ingested",
            account_id=account.id,
            platform=account.platform,
            new=len(result.new),
            revised=len(result.revised),
            unchanged=result.unchanged,
            auto_rejected=len(result.auto_rejected),
        )
    if result.provisional_due:
        log.warning(
            "comment_due_provisional",
            account_id=account.id,
            comment_ids=result.provisional_due,
            reason="no holiday schedule for the due date's year",
        )
