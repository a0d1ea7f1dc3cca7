"""Cron validation and next-run previews (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from apps.schedules.cron import CronError, cron_next_runs, cron_parse, timezone_get

NEW_YORK = ZoneInfo("America/New_York")
DAY_OF_WEEK = "allowed 0-6 or SUN-SAT, Sunday is 0, with * , - and /."


def _utc_runs(expression: str, tz: ZoneInfo, after: datetime, count: int) -> list[str]:
    runs = cron_next_runs(fields=cron_parse(expression), tz=tz, after=after, count=count)
    return [run.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for run in runs]


@pytest.mark.parametrize(
    ("expression", "stored"),
    [
        ("* * * * *", "* * * * *"),
        ("*/15 9-17 * * MON-FRI", "*/15 9-17 * * MON-FRI"),
        ("0 9 * * 1-5", "0 9 * * 1-5"),
        ("30 6 1,15 * *", "30 6 1,15 * *"),
        ("0 0 29 2 *", "0 0 29 2 *"),
        ("0 12 */2 jan-jun *", "0 12 */2 jan-jun *"),
        ("0 0 1 * */2", "0 0 1 * */2"),
        ("  0   9 * *\t* ", "0 9 * * *"),
    ],
)
def test_accepts_expressions_beat_and_the_preview_read_alike(expression, stored):
    assert cron_parse(expression).expression == stored


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "Expected 5 fields (minute hour day-of-month month day-of-week), got 4."),
        ("0 * * * * *", "Expected 5 fields (minute hour day-of-month month day-of-week), got 6."),
        ("", "Expected 5 fields (minute hour day-of-month month day-of-week), got 0."),
        ("60 * * * *", "Bad minute '60': allowed 0-59, with * , - and /."),
        ("0 24 * * *", "Bad hour '24': allowed 0-23, with * , - and /."),
        ("0 0 0 * *", "Bad day of month '0': allowed 1-31, with * , - and /."),
        ("0 0 * 13 *", "Bad month '13': allowed 1-12 or JAN-DEC, with * , - and /."),
        (
            "0 0 * * 7",
            f"Bad day of week '7': {DAY_OF_WEEK}",
        ),
        ("*/0 * * * *", "Bad minute '*/0': allowed 0-59, with * , - and /."),
        ("*/60 * * * *", "Bad minute '*/60': allowed 0-59, with * , - and /."),
        ("5/15 * * * *", "Bad minute '5/15': allowed 0-59, with * , - and /."),
        ("3-1 * * * *", "Bad minute '3-1': allowed 0-59, with * , - and /."),
        ("1,,2 * * * *", "Bad minute '1,,2': allowed 0-59, with * , - and /."),
        ("-1 * * * *", "Bad minute '-1': allowed 0-59, with * , - and /."),
        ("\u0661 * * * *", "Bad minute '\u0661': allowed 0-59, with * , - and /."),
        ("a b c d e", "Bad minute 'a': allowed 0-59, with * , - and /."),
        ("0 0 L * *", "Bad day of month 'L': allowed 1-31, with * , - and /."),
        (
            "0 0 * * 1#2",
            f"Bad day of week '1#2': {DAY_OF_WEEK}",
        ),
        ("0 0 ? * *", "Bad day of month '?': allowed 1-31, with * , - and /."),
        ("@daily", "Expected 5 fields (minute hour day-of-month month day-of-week), got 1."),
        ("0 9 1 * 1", "Restrict the day of month or the day of week, not both; use * for one."),
        ("0 0 31 2 *", "This day of month never occurs in the chosen months."),
        ("0 0 31 4,6 *", "This day of month never occurs in the chosen months."),
        ("0 " * 61, "Use at most 120 characters."),
    ],
    ids=lambda value: value[:20] if isinstance(value, str) else value,
)
def test_refuses_what_beat_or_the_preview_cannot_run(expression, message):
    with pytest.raises(CronError) as raised:
        cron_parse(expression)

    assert str(raised.value) == message


def test_daily_nine_in_new_york_moves_in_utc_across_the_march_change():
    # 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
    after = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)

    runs = cron_next_runs(fields=cron_parse("0 9 * * *"), tz=NEW_YORK, after=after, count=4)

    assert [run.isoformat() for run in runs] == [
        "2026-03-06T09:00:00-05:00",
        "2026-03-07T09:00:00-05:00",
        "2026-03-08T09:00:00-04:00",
        "2026-03-09T09:00:00-04:00",
    ]
    assert _utc_runs("0 9 * * *", NEW_YORK, after, 4) == [
        "2026-03-06 14:00",
        "2026-03-07 14:00",
        "2026-03-08 13:00",
        "2026-03-09 13:00",
    ]


def test_daily_nine_in_new_york_moves_back_in_november():
    # 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST.
    after = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)

    assert _utc_runs("0 9 * * *", NEW_YORK, after, 4) == [
        "2026-10-30 13:00",
        "2026-10-31 13:00",
        "2026-11-01 14:00",
        "2026-11-02 14:00",
    ]


def test_a_time_in_the_skipped_hour_runs_once_when_the_gap_ends():
    after = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)

    runs = cron_next_runs(fields=cron_parse("30 2 * * *"), tz=NEW_YORK, after=after, count=2)

    assert [run.isoformat() for run in runs] == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


def test_a_time_in_the_repeated_hour_runs_once():
    after = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)

    assert _utc_runs("30 1 * * *", NEW_YORK, after, 2) == ["2026-11-01 05:30", "2026-11-02 06:30"]


def test_runs_are_strictly_after_the_start():
    after = datetime(2026, 3, 6, 9, 0, tzinfo=NEW_YORK)

    runs = cron_next_runs(fields=cron_parse("0 9 * * *"), tz=NEW_YORK, after=after, count=1)

    assert runs == [datetime(2026, 3, 7, 9, 0, tzinfo=NEW_YORK)]


def test_weekday_names_and_numbers_agree():
    after = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # a Friday

    by_name = _utc_runs("0 8 * * mon-fri", ZoneInfo("Europe/Berlin"), after, 3)
    by_number = _utc_runs("0 8 * * 1-5", ZoneInfo("Europe/Berlin"), after, 3)

    assert by_name == by_number == ["2026-03-09 07:00", "2026-03-10 07:00", "2026-03-11 07:00"]


def test_preview_stops_at_the_end_of_the_calendar():
    after = datetime(9999, 12, 30, tzinfo=UTC)

    runs = cron_next_runs(fields=cron_parse("0 0 * * *"), tz=ZoneInfo("UTC"), after=after, count=5)

    assert [run.date().isoformat() for run in runs] == ["9999-12-31"]


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("America/New_York", True),
        ("UTC", True),
        ("Europe/Berlin", True),
        ("Mars/Olympus_Mons", False),
        ("america/new_york", False),
        ("", False),
        ("../../etc/passwd", False),
        ("EST+5", False),
    ],
)
def test_time_zones_are_iana_names(name, known):
    assert (timezone_get(name) is not None) is known
