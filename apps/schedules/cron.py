"""Cron expressions and time zones: validation and next-run previews.

An expression is accepted only when all three parsers that will ever see it accept it:
cronsim (the preview), Celery's crontab (what beat evaluates) and django-celery-beat's
field validators (what CrontabSchedule stores). Anything one of them would read
differently or refuse is a validation error here instead of a surprise at 9 a.m.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from celery.schedules import ParseException, crontab
from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError as DjangoValidationError
from django_celery_beat.models import CrontabSchedule

MAX_EXPRESSION_LENGTH = 120
MAX_PREVIEW_COUNT = 50

# (label for messages, CrontabSchedule field, allowed values)
FIELDS = (
    ("minute", "minute", "0-59"),
    ("hour", "hour", "0-23"),
    ("day of month", "day_of_month", "1-31"),
    ("month", "month_of_year", "1-12 or JAN-DEC"),
    ("day of week", "day_of_week", "0-6 or SUN-SAT, Sunday is 0"),
)
# Numbers, names, '*', lists, ranges and steps; cron dialect extras (L, W, #, ?) and
# non-ASCII digits never reach the parsers.
_FIELD_SYNTAX = re.compile(r"^[0-9A-Za-z*,/-]+$")
_PARSE_ERRORS = (ValueError, KeyError, IndexError, TypeError, ParseException, CronSimError)


class CronError(ValueError):
    """The expression is not one this platform can run; the message says why."""


@dataclass(frozen=True)
class CronFields:
    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str

    @property
    def expression(self) -> str:
        return " ".join(
            (self.minute, self.hour, self.day_of_month, self.month_of_year, self.day_of_week)
        )


def _celery_accepts(parts: list[str]) -> bool:
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    try:
        crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except _PARSE_ERRORS:
        return False
    return True


def _cronsim_accepts(parts: list[str]) -> bool:
    try:
        CronSim(" ".join(parts), datetime.now(UTC))
    except _PARSE_ERRORS:
        return False
    return True


def _beat_field_accepts(field_name: str, value: str) -> bool:
    try:
        CrontabSchedule._meta.get_field(field_name).clean(value, None)
    except DjangoValidationError:
        return False
    return True


def cron_parse(expression: str) -> CronFields:
    """The five fields of ``expression``; raises CronError with a message for people."""
    if not isinstance(expression, str) or len(expression) > MAX_EXPRESSION_LENGTH:
        raise CronError(f"Use at most {MAX_EXPRESSION_LENGTH} characters.")
    parts = expression.split()
    if len(parts) != len(FIELDS):
        raise CronError(
            f"Expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}."
        )
    for index, (label, field_name, allowed) in enumerate(FIELDS):
        value = parts[index]
        alone = ["*"] * len(FIELDS)
        alone[index] = value
        if not (
            _FIELD_SYNTAX.match(value)
            and _beat_field_accepts(field_name, value)
            and _celery_accepts(alone)
            and _cronsim_accepts(alone)
        ):
            raise CronError(f"Bad {label} {value!r}: allowed {allowed}, with * , - and /.")
    # Classic cron fires when EITHER day field matches if both are restricted; Celery
    # requires both. Refusing the combination keeps the preview and beat in agreement.
    if not parts[2].startswith("*") and not parts[4].startswith("*"):
        raise CronError("Restrict the day of month or the day of week, not both; use * for one.")
    if not (_celery_accepts(parts) and _cronsim_accepts(parts)):
        raise CronError("This day of month never occurs in the chosen months.")
    return CronFields(*parts)


@lru_cache(maxsize=1)
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_get(name: str) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None for anything zoneinfo does not list."""
    if not isinstance(name, str) or name not in _known_timezones():
        return None
    return ZoneInfo(name)


def timezone_unknown_message(name: object) -> str:
    return f"Unknown time zone {name!r}; use an IANA name such as Europe/Berlin."


def cron_next_runs(
    *, fields: CronFields, tz: ZoneInfo, after: datetime, count: int
) -> list[datetime]:
    """The next ``count`` run times strictly after ``after``, aware in ``tz``.

    Follows Debian cron across DST: a time in the skipped hour runs at the end of the
    gap (02:30 -> 03:00), a time in the repeated hour runs once. Celery beat agrees
    except inside a skipped hour, where it fires at the shifted wall time (03:30).
    """
    runs: list[datetime] = []
    try:
        iterator = CronSim(fields.expression, after.astimezone(tz))
    except _PARSE_ERRORS:
        return runs
    for _ in range(count):
        try:
            runs.append(next(iterator))
        except (StopIteration, OverflowError, ValueError):
            break  # ran past year 9999
    return runs
