"""How often an article's comments are read: often while it is new, rarely later, then never.

Citizens comment mostly in an article's first day; polling a week-old article as often would
spend the platform quota for nothing (WeChat counts every comment/list call against a daily
quota). A moderator can resume a stopped article: the cadence then starts again from "new".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from syndicator.config import Settings
from syndicator.models import CommentIntake


def next_poll(intake: CommentIntake, now: datetime, settings: Settings) -> datetime | None:
    """When to read `intake` next after a read at `now`; None: stop (too old)."""
    if not intake.target:  # an account's feed: every new comment of every article, at a fixed pace
        return now + timedelta(seconds=settings.comment_feed_poll_seconds)
    age = now - (intake.resumed_at or intake.started_at)
    if age >= timedelta(days=settings.comment_intake_stop_days):
        return None
    for younger_than_hours, every_seconds in sorted(settings.comment_poll_schedule):
        if age < timedelta(hours=younger_than_hours):
            return now + timedelta(seconds=every_seconds)
    return now + timedelta(seconds=settings.comment_poll_old_seconds)
