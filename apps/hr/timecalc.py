"""Timezone-aware attendance arithmetic.

Punches are stored in UTC; shifts are defined in the employee's local wall-clock
time. Every duration here is real elapsed time between UTC instants, so a night shift
22:00-06:00 lasts 7 hours on the night clocks spring forward and 9 hours on the night
they fall back.

Converting a local wall-clock time to an instant follows one rule (`local_to_utc`):

- A time that does not exist (in the spring-forward gap) moves forward by the length
  of the gap: 02:30 on 2026-03-08 in America/New_York becomes 03:30 EDT. This is
  PEP 495's fold=0 reading (the offset in force before the transition) and
  java.time's rule; it maps the start of a gap exactly to the transition instant, so a
  midnight that does not exist becomes the first instant of the new day.
- A time that happens twice (in the fall-back overlap) is its first occurrence:
  01:30 on 2026-11-01 in America/New_York is 01:30 EDT (05:30 UTC), not 01:30 EST.

Minutes are whole minutes, truncated: a punch 5 min 59 s late is 5 minutes late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MINUTE = timedelta(minutes=1)


class UnknownTimeZoneError(ValueError):
    def __init__(self, *, time_zone: str) -> None:
        super().__init__(f"Unknown IANA time zone {time_zone!r}.")
        self.time_zone = time_zone


class NaiveDatetimeError(ValueError):
    """A punch or instant without a time zone; this module only accepts aware datetimes."""


class PunchOrderError(ValueError):
    """The check-out is before the check-in."""


@dataclass(frozen=True, slots=True)
class ShiftSpec:
    """A shift template's times, in local wall-clock time.

    A shift whose end is not after its start (22:00-06:00, or 08:00-08:00 for a
    24-hour shift) crosses midnight and ends on the day after its work date.
    Lateness within `grace_minutes` is forgiven entirely; beyond it, the whole
    lateness counts (see `attendance_summary`).
    """

    start: time
    end: time
    break_minutes: int = 0
    grace_minutes: int = 0

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("shift times are local wall-clock times and must be naive")
        if self.break_minutes < 0 or self.grace_minutes < 0:
            raise ValueError("break and grace minutes must not be negative")

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class AttendanceSummary:
    scheduled_start_utc: datetime
    scheduled_end_utc: datetime
    worked_minutes: int
    late_minutes: int
    early_leave_minutes: int
    overtime_minutes: int


def as_zone(time_zone: str | tzinfo) -> tzinfo:
    """A tzinfo for an IANA name (or the tzinfo itself); UnknownTimeZoneError otherwise."""
    if isinstance(time_zone, tzinfo):
        return time_zone
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        # ValueError covers malformed keys such as absolute paths or "../".
        raise UnknownTimeZoneError(time_zone=time_zone) from error


def _require_aware(value: datetime, *, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _whole_minutes(delta: timedelta) -> int:
    return delta // _MINUTE


def local_to_utc(local: datetime, time_zone: str | tzinfo) -> datetime:
    """The UTC instant of a naive local wall-clock time (gap: forward; overlap: first)."""
    if local.tzinfo is not None:
        raise ValueError("local must be a naive wall-clock datetime")
    # fold=0 is what implements both documented rules with zoneinfo.
    return local.replace(tzinfo=as_zone(time_zone), fold=0).astimezone(UTC)


def shift_window(
    *, work_date: date, start: time, end: time, time_zone: str | tzinfo
) -> tuple[datetime, datetime]:
    """The shift's scheduled (start, end) as UTC instants.

    `work_date` is the local date the shift starts; the end falls on the next day when
    end <= start. Wall-clock times are resolved with `local_to_utc`'s rule.
    """
    end_date = work_date + timedelta(days=1) if end <= start else work_date
    start_utc = local_to_utc(datetime.combine(work_date, start), time_zone)
    end_utc = local_to_utc(datetime.combine(end_date, end), time_zone)
    return start_utc, end_utc


def working_day_of(
    *, instant_utc: datetime, time_zone: str | tzinfo, day_start: time = time(0)
) -> date:
    """The local working day an instant belongs to.

    A working day D runs from D at `day_start` local time to D+1 at `day_start`, so
    with day_start=04:00 a punch at 02:00 local belongs to the previous day.
    """
    _require_aware(instant_utc, name="instant_utc")
    local = instant_utc.astimezone(as_zone(time_zone))
    if local.time() < day_start:
        return local.date() - timedelta(days=1)
    return local.date()


def midnight_after(*, instant_utc: datetime, time_zone: str | tzinfo) -> datetime:
    """The first local midnight strictly after `instant_utc`, as a UTC datetime.

    Used to close abandoned shifts. Where midnight itself does not exist (zones that
    change clocks at 00:00), this is the first instant of the new local day.
    """
    _require_aware(instant_utc, name="instant_utc")
    zone = as_zone(time_zone)
    next_day = instant_utc.astimezone(zone).date() + timedelta(days=1)
    return local_to_utc(datetime.combine(next_day, time(0)), zone)


def attendance_summary(
    *,
    shift: ShiftSpec,
    work_date: date,
    time_zone: str | tzinfo,
    check_in_utc: datetime,
    check_out_utc: datetime,
) -> AttendanceSummary:
    """Worked, late, early-leave and overtime minutes for one attendance, all in real time.

    - worked: check-out minus check-in, minus the break (never below 0).
    - late: minutes from the scheduled start to the check-in, counted in full once
      they exceed the grace period, 0 within it.
    - early_leave: minutes from the check-out to the scheduled end (no grace).
    - overtime: worked minutes beyond the scheduled real duration minus the break,
      so arriving late and staying late evens out.

    Raises NaiveDatetimeError for a naive punch, PunchOrderError when the check-out
    is before the check-in.
    """
    _require_aware(check_in_utc, name="check_in_utc")
    _require_aware(check_out_utc, name="check_out_utc")
    if check_out_utc < check_in_utc:
        raise PunchOrderError(
            f"check-out {check_out_utc.isoformat()} is before check-in {check_in_utc.isoformat()}"
        )
    start_utc, end_utc = shift_window(
        work_date=work_date, start=shift.start, end=shift.end, time_zone=time_zone
    )

    worked = max(0, _whole_minutes(check_out_utc - check_in_utc) - shift.break_minutes)
    lateness = check_in_utc - start_utc
    late = _whole_minutes(lateness) if lateness > timedelta(minutes=shift.grace_minutes) else 0
    early_leave = max(0, _whole_minutes(end_utc - check_out_utc))
    scheduled = max(0, _whole_minutes(end_utc - start_utc) - shift.break_minutes)
    overtime = max(0, worked - scheduled)

    return AttendanceSummary(
        scheduled_start_utc=start_utc,
        scheduled_end_utc=end_utc,
        worked_minutes=worked,
        late_minutes=late,
        early_leave_minutes=early_leave,
        overtime_minutes=overtime,
    )
