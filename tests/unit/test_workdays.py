import json
from datetime import UTC, date, datetime

from syndicator.workdays import WorkCalendar, deadline_text


def test_national_day_holiday_is_skipped() -> None:
    # 2024-09-30 (Mon) received; 10-01..10-07 国庆节 holiday; 10-08 and 10-09 are working days.
    due = WorkCalendar().add_working_days(datetime(2024, 9, 30, 2, 0, tzinfo=UTC), 2)
    assert due.at == datetime(2024, 10, 9, 16, 0, tzinfo=UTC)  # end of 10-09 in Asia/Shanghai
    assert not due.provisional


def test_make_up_working_day_counts() -> None:
    # 2024-09-29 (Sunday) is a 调休 working day before 国庆节.
    calendar = WorkCalendar()
    assert calendar.is_working_day(date(2024, 9, 29)) == (True, False)
    due = calendar.add_working_days(datetime(2024, 9, 28, 1, 0, tzinfo=UTC), 1)
    assert due.at == datetime(2024, 9, 29, 16, 0, tzinfo=UTC)


def test_spring_festival_2025() -> None:
    # Received 2025-01-27 (Mon); 01-28..02-04 春节 holiday; 02-05 and 02-06 are working days.
    due = WorkCalendar().add_working_days(datetime(2025, 1, 27, 1, 0, tzinfo=UTC), 2)
    assert due.at.date() == date(2025, 2, 6)


def test_unknown_year_uses_weekends_and_says_provisional() -> None:
    due = WorkCalendar().add_working_days(datetime(2026, 12, 30, 2, 0, tzinfo=UTC), 2)
    assert due.provisional  # 2027 is in no schedule
    assert due.at == datetime(2027, 1, 1, 16, 0, tzinfo=UTC)  # 12-31 (Thu), 01-01 (Fri) counted blindly


def test_office_schedule_file_fills_in_a_new_year(tmp_path) -> None:
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps({"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}}))
    due = WorkCalendar.from_file(path).add_working_days(datetime(2026, 12, 30, 2, 0, tzinfo=UTC), 2)
    assert not due.provisional
    assert due.at == datetime(2027, 1, 2, 16, 0, tzinfo=UTC)  # 12-31, skip 01-01, 01-02 make-up day


def test_a_deadline_is_shown_to_the_second_unless_it_falls_on_a_minute() -> None:
    assert deadline_text(datetime(2026, 11, 26, 10, 24, 48, 900_000, tzinfo=UTC)) == "2026-11-26 18:24:48"
    assert deadline_text(datetime(2026, 11, 26, 16, 0, tzinfo=UTC)) == "2026-11-27 00:00"
