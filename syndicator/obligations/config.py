"""Obligation and compliance configuration, as plain values built from `Settings`.

Every rule is a default that the office can change through Settings (`obligation_*`,
`compliance_*`, `dashboard_session_hours`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from syndicator.config import Settings

# Categories of 中国政府网 / provincial portals whose items are important policy information.
DEFAULT_IMPORTANT_CATEGORIES = (
    "国务院文件",
    "国务院办公厅文件",
    "国务院令",
    "政策文件",
    "省政府文件",
    "省政府办公厅文件",
    "省政府令",
)
# A document number (文号) marks an official document:
# 国办发〔2018〕123号, 苏政办发〔2017〕96号, 国务院令第711号.
DEFAULT_DOC_NUMBER_PATTERN = (
    r"[\u4e00-\u9fa5]{1,12}〔\d{4}〕\d{1,4}号|国务院令第\d{1,4}号|[\u4e00-\u9fa5]{1,8}令第\d{1,4}号"
)


@dataclass(frozen=True)
class ClassificationRules:
    """What makes an upstream item important policy: a listed category, or a document number."""

    important_categories: tuple[str, ...] = DEFAULT_IMPORTANT_CATEGORIES
    doc_number_pattern: str = DEFAULT_DOC_NUMBER_PATTERN
    # Categories that never open an obligation, whatever the text says (news, meetings).
    excluded_categories: tuple[str, ...] = ("要闻", "新闻", "图片", "视频", "会议报道")


@dataclass(frozen=True)
class FeedSource:
    """One upstream feed: where it is, whose it is, and its level (national or province)."""

    url: str
    source: str  # e.g. www.gov.cn
    level: str = "national"
    unit: str | None = None  # the publishing unit's name; a province source obligates its subordinates
    rules: ClassificationRules = field(default_factory=ClassificationRules)


@dataclass(frozen=True)
class ObligationConfig:
    window: timedelta = timedelta(hours=12)  # 江苏 苏政办发〔2017〕96号
    reminder_offsets: tuple[timedelta, ...] = (timedelta(hours=4), timedelta(hours=1))
    platforms: tuple[str, ...] = ("wechat", "weibo", "app")
    feeds: tuple[FeedSource, ...] = ()
    silent_after: timedelta = timedelta(days=14)
    municipal_min_per_week: int = 2
    county_lookback_days: int = 7
    chat_id: int | None = None
    session_max_age: timedelta = timedelta(hours=8)
    # Officers' chats of units (unit name, chat id): each gets digests of its unit's scope only.
    unit_chats: tuple[tuple[str, int], ...] = ()
    # Silence warnings before the 14-day veto: days without an update; county accounts also per
    # missed working day.
    silence_warn_days: tuple[int, ...] = (7, 10)
    county_missed_day_warning: bool = True


def from_settings(settings: Settings) -> ObligationConfig:
    rules = ClassificationRules(
        important_categories=tuple(settings.obligation_important_categories or DEFAULT_IMPORTANT_CATEGORIES),
    )
    feeds = tuple(
        FeedSource(
            url=f["url"],
            source=f["source"],
            level=f.get("level", "national"),
            unit=f.get("unit"),
            rules=rules,
        )
        for f in settings.obligation_feeds
    )
    return ObligationConfig(
        window=timedelta(hours=settings.obligation_window_hours),
        reminder_offsets=tuple(timedelta(hours=h) for h in settings.obligation_reminder_hours),
        platforms=tuple(settings.obligation_platforms),
        feeds=feeds,
        silent_after=timedelta(days=settings.compliance_silent_days),
        municipal_min_per_week=settings.compliance_municipal_min_per_week,
        chat_id=settings.officer_chat_id
        if settings.officer_chat_id is not None
        else settings.moderation_chat_id,
        session_max_age=timedelta(hours=settings.dashboard_session_hours),
        unit_chats=tuple(settings.obligation_unit_chats.items()),
        silence_warn_days=tuple(sorted(settings.compliance_silence_warn_days)),
        county_missed_day_warning=settings.compliance_county_missed_day_warning,
    )
