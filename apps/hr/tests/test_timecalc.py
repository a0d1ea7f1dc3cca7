from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from apps.hr.timecalc import (
    AttendanceSummary,
    NaiveDatetimeError,
    PunchOrderError,
    ShiftSpec,
    UnknownTimeZoneError,
    attendance_summary,
    local_to_utc,
    midnight_after,
    shift_window,
    working_day_of,
)

NEW_YORK = "America/New_York"
LONDON = "Europe/London"

NIGHT = ShiftSpec(start=time(22), end=time(6), break_minutes=30, grace_minutes=10)
DAY = ShiftSpec(start=time(9), end=time(17), break_minutes=60, grace_minutes=5)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def wall(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A naive local wall-clock datetime."""
    return datetime.combine(date(year, month, day), time(hour, minute))


def hours(start_end: tuple[datetime, datetime]) -> float:
    start, end = start_end
    return (end - start) / timedelta(hours=1)


class TestShiftWindow:
    def test_day_shift_in_summer_time(self):
        window = shift_window(
            work_date=date(2026, 6, 15), start=time(9), end=time(17), time_zone=NEW_YORK
        )

        assert window == (utc(2026, 6, 15, 13), utc(2026, 6, 15, 21))

    def test_night_shift_crosses_midnight(self):
        window = shift_window(
            work_date=date(2026, 6, 15), start=time(22), end=time(6), time_zone=NEW_YORK
        )

        assert window == (utc(2026, 6, 16, 2), utc(2026, 6, 16, 10))

    @pytest.mark.parametrize(
        ("time_zone", "work_date", "expected_window", "expected_hours"),
        [
            # New York springs forward 02:00 EST -> 03:00 EDT on 2026-03-08.
            (NEW_YORK, date(2026, 3, 7), (utc(2026, 3, 8, 3), utc(2026, 3, 8, 10)), 7),
            # New York falls back 02:00 EDT -> 01:00 EST on 2026-11-01.
            (NEW_YORK, date(2026, 10, 31), (utc(2026, 11, 1, 2), utc(2026, 11, 1, 11)), 9),
            # London springs forward 01:00 GMT -> 02:00 BST on 2026-03-29.
            (LONDON, date(2026, 3, 28), (utc(2026, 3, 28, 22), utc(2026, 3, 29, 5)), 7),
            # London falls back 02:00 BST -> 01:00 GMT on 2026-10-25.
            (LONDON, date(2026, 10, 24), (utc(2026, 10, 24, 21), utc(2026, 10, 25, 6)), 9),
        ],
    )
    def test_night_shift_on_the_night_clocks_change(
        self, time_zone, work_date, expected_window, expected_hours
    ):
        window = shift_window(work_date=work_date, start=time(22), end=time(6), time_zone=time_zone)

        assert window == expected_window
        assert hours(window) == expected_hours

    def test_start_in_the_spring_forward_gap_moves_forward_by_the_gap(self):
        # 02:30 does not exist in New York on 2026-03-08; it becomes 03:30 EDT.
        window = shift_window(
            work_date=date(2026, 3, 8), start=time(2, 30), end=time(10, 30), time_zone=NEW_YORK
        )

        assert window == (utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 14, 30))
        assert window[0].astimezone(ZoneInfo(NEW_YORK)).time() == time(3, 30)

    def test_start_in_the_fall_back_overlap_is_the_first_occurrence(self):
        # 01:30 happens twice in New York on 2026-11-01: EDT (05:30Z), then EST (06:30Z).
        window = shift_window(
            work_date=date(2026, 11, 1), start=time(1, 30), end=time(9, 30), time_zone=NEW_YORK
        )

        assert window == (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 14, 30))
        assert hours(window) == 9

    @pytest.mark.parametrize(
        ("local", "expected"),
        [
            (wall(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 30)),  # gap: 02:30 BST
            (wall(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30)),  # overlap: BST first
            (wall(2026, 10, 25, 2, 30), utc(2026, 10, 25, 2, 30)),  # after: GMT
        ],
    )
    def test_london_gap_and_overlap(self, local, expected):
        assert local_to_utc(local, LONDON) == expected

    def test_24_hour_shift_when_end_equals_start(self):
        window = shift_window(
            work_date=date(2026, 6, 15), start=time(8), end=time(8), time_zone=NEW_YORK
        )

        assert hours(window) == 24

    def test_unknown_time_zone_is_refused(self):
        with pytest.raises(UnknownTimeZoneError):
            shift_window(
                work_date=date(2026, 6, 15), start=time(9), end=time(17), time_zone="Mars/Olympus"
            )

    @pytest.mark.parametrize("bad_zone", ["", "../etc/passwd", "/etc/localtime"])
    def test_malformed_time_zone_is_refused(self, bad_zone):
        with pytest.raises(UnknownTimeZoneError):
            local_to_utc(wall(2026, 6, 15, 9), bad_zone)


class TestAttendanceSummary:
    def summarise(self, check_in, check_out, *, shift=DAY, work_date=date(2026, 6, 15), tz=None):
        return attendance_summary(
            shift=shift,
            work_date=work_date,
            time_zone=tz or NEW_YORK,
            check_in_utc=check_in,
            check_out_utc=check_out,
        )

    def test_on_time(self):
        summary = self.summarise(utc(2026, 6, 15, 13), utc(2026, 6, 15, 21))

        assert summary == AttendanceSummary(
            scheduled_start_utc=utc(2026, 6, 15, 13),
            scheduled_end_utc=utc(2026, 6, 15, 21),
            worked_minutes=420,
            late_minutes=0,
            early_leave_minutes=0,
            overtime_minutes=0,
        )

    @pytest.mark.parametrize(
        ("check_in", "late", "worked"),
        [
            (utc(2026, 6, 15, 12, 50), 0, 430),  # early arrival
            (utc(2026, 6, 15, 13, 5), 0, 415),  # exactly at the end of grace
            (utc(2026, 6, 15, 13, 5, 1), 5, 414),  # one second beyond grace
            (utc(2026, 6, 15, 13, 6), 6, 414),
            (utc(2026, 6, 15, 13, 20), 20, 400),
        ],
    )
    def test_lateness_within_and_beyond_grace(self, check_in, late, worked):
        summary = self.summarise(check_in, utc(2026, 6, 15, 21))

        assert (summary.late_minutes, summary.worked_minutes) == (late, worked)
        assert summary.overtime_minutes == max(0, worked - 420)

    def test_early_leave(self):
        summary = self.summarise(utc(2026, 6, 15, 13), utc(2026, 6, 15, 20, 30))

        assert (summary.worked_minutes, summary.early_leave_minutes) == (390, 30)
        assert summary.overtime_minutes == 0

    def test_overtime(self):
        summary = self.summarise(utc(2026, 6, 15, 13), utc(2026, 6, 15, 23, 15))

        assert (summary.worked_minutes, summary.overtime_minutes) == (555, 135)
        assert summary.early_leave_minutes == 0

    def test_late_arrival_made_up_is_not_overtime(self):
        summary = self.summarise(utc(2026, 6, 15, 13, 30), utc(2026, 6, 15, 21, 30))

        assert summary.late_minutes == 30
        assert summary.worked_minutes == 420
        assert summary.overtime_minutes == 0

    def test_cross_midnight_shift(self):
        summary = self.summarise(utc(2026, 6, 16, 2, 12), utc(2026, 6, 16, 10), shift=NIGHT)

        assert summary.late_minutes == 12
        assert summary.worked_minutes == 468 - 30
        assert summary.overtime_minutes == 0

    @pytest.mark.parametrize(
        ("work_date", "check_in", "check_out", "worked", "overtime", "early"),
        [
            # Spring forward: 7 real hours scheduled; staying until 07:00 EDT is overtime.
            (date(2026, 3, 7), utc(2026, 3, 8, 3), utc(2026, 3, 8, 10), 390, 0, 0),
            (date(2026, 3, 7), utc(2026, 3, 8, 3), utc(2026, 3, 8, 11), 450, 60, 0),
            # Fall back: 9 real hours scheduled; leaving after 8 real hours is early.
            (date(2026, 10, 31), utc(2026, 11, 1, 2), utc(2026, 11, 1, 11), 510, 0, 0),
            (date(2026, 10, 31), utc(2026, 11, 1, 2), utc(2026, 11, 1, 10), 450, 0, 60),
        ],
    )
    def test_night_shift_across_dst(self, work_date, check_in, check_out, worked, overtime, early):
        summary = self.summarise(check_in, check_out, shift=NIGHT, work_date=work_date)

        assert summary.late_minutes == 0
        assert summary.worked_minutes == worked
        assert summary.overtime_minutes == overtime
        assert summary.early_leave_minutes == early

    def test_london_night_shift_across_fall_back(self):
        summary = self.summarise(
            utc(2026, 10, 24, 21, 15),
            utc(2026, 10, 25, 6),
            shift=NIGHT,
            work_date=date(2026, 10, 24),
            tz=LONDON,
        )

        assert summary.late_minutes == 15
        assert summary.worked_minutes == 525 - 30
        assert summary.overtime_minutes == 0

    def test_break_longer_than_presence_is_zero_worked(self):
        summary = self.summarise(utc(2026, 6, 15, 13), utc(2026, 6, 15, 13, 20))

        assert summary.worked_minutes == 0

    def test_punches_in_any_offset_are_accepted(self):
        paris = timezone(timedelta(hours=2))

        summary = self.summarise(
            datetime(2026, 6, 15, 15, tzinfo=paris), datetime(2026, 6, 15, 23, tzinfo=paris)
        )

        assert (summary.worked_minutes, summary.late_minutes) == (420, 0)

    def test_check_out_before_check_in_is_refused(self):
        with pytest.raises(PunchOrderError):
            self.summarise(utc(2026, 6, 15, 21), utc(2026, 6, 15, 13))

    def test_naive_punch_is_refused(self):
        with pytest.raises(NaiveDatetimeError):
            self.summarise(wall(2026, 6, 15, 13), utc(2026, 6, 15, 21))


class TestShiftSpec:
    def test_crosses_midnight(self):
        assert NIGHT.crosses_midnight is True
        assert DAY.crosses_midnight is False

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"start": time(9), "end": time(17), "break_minutes": -1},
            {"start": time(9), "end": time(17), "grace_minutes": -1},
            {"start": time(9, tzinfo=UTC), "end": time(17)},
        ],
    )
    def test_refuses_invalid(self, kwargs):
        with pytest.raises(ValueError):  # noqa: PT011
            ShiftSpec(**kwargs)


class TestWorkingDayOf:
    @pytest.mark.parametrize(
        ("instant", "time_zone", "day_start", "expected"),
        [
            (utc(2026, 6, 16, 3), NEW_YORK, time(0), date(2026, 6, 15)),  # 23:00 EDT
            (utc(2026, 6, 16, 4), NEW_YORK, time(0), date(2026, 6, 16)),  # 00:00 EDT
            (utc(2026, 6, 16, 7), NEW_YORK, time(4), date(2026, 6, 15)),  # 03:00 EDT
            (utc(2026, 6, 16, 8), NEW_YORK, time(4), date(2026, 6, 16)),  # 04:00 EDT
            (utc(2026, 3, 29, 0, 30), LONDON, time(0), date(2026, 3, 29)),  # 00:30 GMT
            (utc(2026, 10, 24, 23, 30), LONDON, time(0), date(2026, 10, 25)),  # 00:30 BST
            (utc(2026, 6, 15, 16), "Asia/Tokyo", time(0), date(2026, 6, 16)),  # 01:00 JST
        ],
    )
    def test_local_day(self, instant, time_zone, day_start, expected):
        assert working_day_of(instant_utc=instant, time_zone=time_zone, day_start=day_start) == (
            expected
        )

    def test_naive_instant_is_refused(self):
        with pytest.raises(NaiveDatetimeError):
            working_day_of(instant_utc=wall(2026, 6, 16, 3), time_zone=NEW_YORK)


class TestMidnightAfter:
    @pytest.mark.parametrize(
        ("instant", "time_zone", "expected"),
        [
            (utc(2026, 6, 15, 18), NEW_YORK, utc(2026, 6, 16, 4)),
            (utc(2026, 6, 16, 4), NEW_YORK, utc(2026, 6, 17, 4)),  # exactly midnight
            (utc(2026, 3, 7, 23), NEW_YORK, utc(2026, 3, 8, 5)),  # EST midnight
            (utc(2026, 3, 8, 12), NEW_YORK, utc(2026, 3, 9, 4)),  # after the 23-hour day
            (utc(2026, 11, 1, 12), NEW_YORK, utc(2026, 11, 2, 5)),  # after the 25-hour day
            (utc(2026, 10, 25, 12), LONDON, utc(2026, 10, 26, 0)),
            (utc(2026, 3, 28, 12), LONDON, utc(2026, 3, 29, 0)),
            # Santiago skips 00:00-01:00 on 2026-09-06: the day starts at 01:00 -03.
            (utc(2026, 9, 5, 20), "America/Santiago", utc(2026, 9, 6, 4)),
        ],
    )
    def test_next_local_midnight(self, instant, time_zone, expected):
        result = midnight_after(instant_utc=instant, time_zone=time_zone)

        assert result == expected
        assert result > instant
        assert result.utcoffset() == timedelta(0)
