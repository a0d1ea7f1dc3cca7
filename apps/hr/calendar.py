"""Working-day arithmetic for leave: weekends, public holidays and half days.

Public holidays come from the pinned `holidays` library, including its "observed"
days (a holiday falling on a weekend moves to the working day the law says), because
that observed day is the one employees have off. Tenant-defined holidays are passed
in by the caller as `extra_holidays`; this module never reads the database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType

import holidays

HALF_DAY = Decimal("0.5")
DEFAULT_WEEKEND = (5, 6)  # Saturday, Sunday (date.weekday() numbering: Monday is 0)


# Bounds the day-by-day walk (and the holiday years loaded) for absurd input; no
# real leave lasts ten years.
MAX_LEAVE_SPAN_DAYS = 3660


class LeaveRangeError(ValueError):
    """The leave ends before it starts, or spans more than MAX_LEAVE_SPAN_DAYS."""

    def __init__(self, *, start: date, end: date) -> None:
        if end < start:
            message = f"Leave ends ({end.isoformat()}) before it starts ({start.isoformat()})."
        else:
            message = f"Leave from {start.isoformat()} to {end.isoformat()} is implausibly long."
        super().__init__(message)
        self.start = start
        self.end = end


class UnknownCountryError(ValueError):
    """The `holidays` library has no calendar for this country code."""

    def __init__(self, *, country: str) -> None:
        super().__init__(f"No public holiday calendar for country {country!r}.")
        self.country = country


class UnknownSubdivisionError(UnknownCountryError):
    """The country is known but the subdivision (state, nation, region) is not.

    A subclass of UnknownCountryError so that callers mapping only that error still
    refuse a bad region instead of silently ignoring its holidays.
    """

    def __init__(self, *, country: str, subdivision: str) -> None:
        ValueError.__init__(
            self, f"No public holiday calendar for subdivision {subdivision!r} of {country!r}."
        )
        self.country = country
        self.subdivision = subdivision


@lru_cache(maxsize=512)
def _holidays_for_year(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as error:
        # The library signals both cases with NotImplementedError; the country check
        # tells them apart without parsing its message.
        if subdivision is not None and country in holidays.list_supported_countries():
            raise UnknownSubdivisionError(country=country, subdivision=subdivision) from error
        raise UnknownCountryError(country=country) from error
    return MappingProxyType(dict(calendar.items()))


def _normalise(country: str, subdivision: str | None) -> tuple[str, str | None]:
    country = country.strip().upper()
    if subdivision is not None:
        subdivision = subdivision.strip() or None
    return country, subdivision


def public_holidays(*, country: str, subdivision: str | None = None, year: int) -> dict[date, str]:
    """Public holidays (observed days included) of `country` (ISO 3166-1 alpha-2) in `year`.

    Raises UnknownCountryError, or its subclass UnknownSubdivisionError.
    """
    country, subdivision = _normalise(country, subdivision)
    return dict(_holidays_for_year(country, subdivision, year))


def leave_days(
    *,
    start: date,
    end: date,
    start_half: bool = False,
    end_half: bool = False,
    country: str,
    subdivision: str | None = None,
    extra_holidays: Collection[date] = (),
    weekend: Collection[int] = DEFAULT_WEEKEND,
) -> Decimal:
    """Working days in the inclusive range [start, end], as a Decimal in steps of 0.5.

    A day counts when it is neither a weekend day (`weekend`, Monday=0 .. Sunday=6),
    nor a public holiday of country/subdivision, nor in `extra_holidays`.
    `start_half` / `end_half` make the first / last day count 0.5 instead of 1; a half
    day that falls on a non-working day counts 0, not -0.5. On a one-day leave either
    flag makes it a half day (both flags still mean one half day, not zero).

    Raises LeaveRangeError when end < start or the range spans MAX_LEAVE_SPAN_DAYS
    days or more, UnknownCountryError / UnknownSubdivisionError for a calendar the
    library does not have, and ValueError for a weekend day outside 0..6.
    """
    if end < start or (end - start).days >= MAX_LEAVE_SPAN_DAYS:
        raise LeaveRangeError(start=start, end=end)
    weekend_days = frozenset(weekend)
    if not weekend_days <= frozenset(range(7)):
        raise ValueError(f"weekend days must be between 0 and 6, got {sorted(weekend_days)}")
    country, subdivision = _normalise(country, subdivision)

    days_off: set[date] = set(extra_holidays)
    for year in range(start.year, end.year + 1):
        days_off.update(_holidays_for_year(country, subdivision, year))

    def is_working(day: date) -> bool:
        return day.weekday() not in weekend_days and day not in days_off

    total = Decimal(0)
    day = start
    while day <= end:
        if is_working(day):
            total += 1
        day += timedelta(days=1)

    if start == end:
        if (start_half or end_half) and is_working(start):
            total -= HALF_DAY
        return total
    if start_half and is_working(start):
        total -= HALF_DAY
    if end_half and is_working(end):
        total -= HALF_DAY
    return total
