"""The pure 12-hour clock, the frequency rules and the repost matcher."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from syndicator.obligations.clock import (
    ESCALATION,
    FrequencyRules,
    TargetStatus,
    deadline_for,
    due_signal,
    frequency_problems,
    is_on_time,
    percentile,
    shanghai,
    status_at,
)
from syndicator.obligations.matching import ItemKey, RecentPost, match_reason
from syndicator.obligations.service import ItemIn  # noqa: F401  (the service's value type imports cleanly)
from syndicator.workdays import SHANGHAI, WorkCalendar

TWELVE = timedelta(hours=12)


def test_evening_item_is_due_next_morning_beijing_time() -> None:
    published = datetime(2018, 12, 27, 17, 30, tzinfo=SHANGHAI)  # 国办发〔2018〕123号, 17:30
    deadline = deadline_for(published, TWELVE)
    assert deadline.tzinfo == UTC
    assert deadline == datetime(2018, 12, 27, 21, 30, tzinfo=UTC)
    assert shanghai(deadline) == "2018-12-28 05:30"


def test_deadline_crosses_midnight_month_and_year_in_shanghai() -> None:
    published = datetime(2026, 12, 31, 20, 40, tzinfo=SHANGHAI)  # 12:40 UTC, same UTC day
    deadline = deadline_for(published, TWELVE)
    assert shanghai(deadline) == "2027-01-01 08:40"
    assert deadline == datetime(2027, 1, 1, 0, 40, tzinfo=UTC)


def test_deadline_is_the_same_instant_whatever_zone_the_feed_used() -> None:
    in_utc = datetime(2026, 11, 25, 12, 40, tzinfo=UTC)
    assert deadline_for(in_utc, TWELVE) == deadline_for(in_utc.astimezone(SHANGHAI), TWELVE)


def test_fulfilled_exactly_at_the_deadline_is_on_time_a_microsecond_later_is_late() -> None:
    deadline = datetime(2026, 11, 26, 0, 40, tzinfo=UTC)
    assert is_on_time(deadline, deadline)
    assert not is_on_time(deadline + timedelta(microseconds=1), deadline)


def test_status_at_uses_when_a_fulfilment_was_recorded() -> None:
    deadline = datetime(2026, 11, 26, 0, 40, tzinfo=UTC)
    fulfilled = deadline + timedelta(hours=3)
    recorded = deadline + timedelta(hours=5)

    def at(moment: datetime) -> TargetStatus:
        return status_at(
            as_of=moment,
            deadline_at=deadline,
            state="fulfilled_late",
            fulfilled_at=fulfilled,
            recorded_at=recorded,
        )

    assert at(deadline) is TargetStatus.OPEN
    assert at(deadline + timedelta(hours=4)) is TargetStatus.OVERDUE  # reposted, but nobody knew yet
    assert at(recorded) is TargetStatus.LATE


def test_reminders_then_escalation_and_missed_reminders_are_not_sent_late() -> None:
    deadline = datetime(2026, 11, 26, 0, 40, tzinfo=UTC)
    offsets = (timedelta(hours=4), timedelta(hours=1))
    assert due_signal(now=deadline - timedelta(hours=5), deadline_at=deadline, offsets=offsets, sent=[]) == (
        None,
        [],
    )
    assert due_signal(now=deadline - timedelta(hours=4), deadline_at=deadline, offsets=offsets, sent=[]) == (
        "4h",
        ["4h"],
    )
    assert due_signal(
        now=deadline - timedelta(minutes=30), deadline_at=deadline, offsets=offsets, sent=["4h"]
    ) == ("1h", ["1h"])
    assert due_signal(
        now=deadline - timedelta(minutes=30), deadline_at=deadline, offsets=offsets, sent=[]
    ) == ("1h", ["4h", "1h"])
    assert due_signal(now=deadline, deadline_at=deadline, offsets=offsets, sent=["4h", "1h"]) == (
        ESCALATION,
        [ESCALATION],
    )
    assert due_signal(now=deadline, deadline_at=deadline, offsets=offsets, sent=[ESCALATION, "4h", "1h"]) == (
        None,
        [],
    )


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([0, 10], 0.9) == 9


def test_county_account_missing_a_working_day_is_flagged_weekend_is_not() -> None:
    calendar = WorkCalendar()
    as_of = datetime(2025, 12, 8, 10, 0, tzinfo=SHANGHAI)  # Monday
    updates = [datetime(2025, 12, d, 9, tzinfo=SHANGHAI) for d in (1, 2, 3, 5)]  # Thursday 4th missing
    problems = frequency_problems(
        level="county",
        updates=updates,
        opened_at=datetime(2025, 1, 1, tzinfo=UTC),
        as_of=as_of,
        rules=FrequencyRules(),
        is_working_day=calendar.is_working_day,
    )
    assert problems == ["工作日未更新：12-04"]


def test_municipal_account_needs_two_updates_in_the_last_week() -> None:
    as_of = datetime(2025, 12, 8, 10, 0, tzinfo=SHANGHAI)
    once = [datetime(2025, 12, 3, 9, tzinfo=SHANGHAI)]
    problems = frequency_problems(
        level="city",
        updates=once,
        opened_at=datetime(2025, 1, 1, tzinfo=UTC),
        as_of=as_of,
        rules=FrequencyRules(),
        is_working_day=lambda d: (True, False),
    )
    assert problems == ["上周更新1次（少于每周2次）"]


def test_account_silent_for_fourteen_days_is_flagged() -> None:
    as_of = datetime(2025, 12, 20, tzinfo=UTC)
    last = [as_of - timedelta(days=14)]
    problems = frequency_problems(
        level="province",
        updates=last,
        opened_at=datetime(2025, 1, 1, tzinfo=UTC),
        as_of=as_of,
        rules=FrequencyRules(),
        is_working_day=lambda d: (True, False),
    )
    assert problems == ["已14天未更新"]
    assert (
        frequency_problems(
            level="province",
            updates=[as_of - timedelta(days=13)],
            opened_at=last[0],
            as_of=as_of,
            rules=FrequencyRules(),
            is_working_day=lambda d: (True, False),
        )
        == []
    )
    assert date(2025, 12, 20)  # the rules take dates in Asia/Shanghai


ITEM = ItemKey(
    1,
    "https://www.gov.cn/zhengce/content/2018-12/27/content_5352666.htm",
    "国办发〔2018〕123号",
    "国务院办公厅关于推进政务新媒体健康有序发展的意见",
)
AT = datetime(2018, 12, 27, 12, tzinfo=UTC)


def test_repost_matched_by_link_document_number_or_normalised_title() -> None:
    by_link = RecentPost(
        "今日推送", None, "原文见 http://gov.cn/zhengce/content/2018-12/27/content_5352666.htm/。", AT
    )
    by_number = RecentPost("政务新媒体意见全文", None, "国办发[2018]123号 全文如下", AT)
    by_title = RecentPost("转发：国务院办公厅关于推进政务新媒体健康有序发展的意见！", None, "", AT)
    unrelated = RecentPost("国务院办公厅关于加强政府网站信息内容建设的意见", None, "国办发〔2014〕57号", AT)
    assert match_reason(ITEM, by_link) == "link"
    assert match_reason(ITEM, by_number) == "doc_number"
    assert match_reason(ITEM, by_title) == "title"
    assert match_reason(ITEM, unrelated) is None
