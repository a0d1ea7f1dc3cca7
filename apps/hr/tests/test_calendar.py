from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.hr.calendar import (
    MAX_LEAVE_SPAN_DAYS,
    LeaveRangeError,
    UnknownCountryError,
    UnknownSubdivisionError,
    leave_days,
    public_holidays,
)

# 2026-03-02 is a Monday; the week of 2 to 6 March has no US or UK holiday.
MONDAY = date(2026, 3, 2)
FRIDAY = date(2026, 3, 6)


def test_counts_weekdays_only():
    assert leave_days(start=MONDAY, end=FRIDAY, country="US") == Decimal(5)
    assert leave_days(start=MONDAY, end=MONDAY + timedelta(days=13), country="US") == Decimal(10)


def test_weekend_only_leave_is_zero():
    assert leave_days(start=date(2026, 3, 7), end=date(2026, 3, 8), country="US") == Decimal(0)


def test_excludes_us_federal_holiday_and_its_observed_day():
    # Independence Day 2026 is a Saturday, observed on Friday 3 July.
    result = leave_days(start=date(2026, 6, 29), end=date(2026, 7, 10), country="US")

    assert result == Decimal(9)


def test_excludes_uk_bank_holidays_of_the_subdivision():
    # Good Friday (3 April) is a bank holiday everywhere in the UK; Easter Monday
    # (6 April) only in England, Wales and Northern Ireland.
    start, end = date(2026, 3, 30), date(2026, 4, 10)

    assert leave_days(start=start, end=end, country="GB", subdivision="ENG") == Decimal(8)
    assert leave_days(start=start, end=end, country="GB", subdivision="SCT") == Decimal(9)


def test_range_across_new_year_uses_both_years_holidays():
    # 28 Dec 2026 is the observed Boxing Day in the UK; 1 Jan 2027 is a Friday.
    start, end = date(2026, 12, 28), date(2027, 1, 5)

    assert leave_days(start=start, end=end, country="GB", subdivision="ENG") == Decimal(5)
    assert leave_days(start=start, end=end, country="US") == Decimal(6)


def test_excludes_tenant_defined_holidays():
    result = leave_days(start=MONDAY, end=FRIDAY, country="US", extra_holidays={date(2026, 3, 4)})

    assert result == Decimal(4)


@pytest.mark.parametrize(
    ("start_half", "end_half", "expected"),
    [
        (False, False, Decimal("5")),
        (True, False, Decimal("4.5")),
        (False, True, Decimal("4.5")),
        (True, True, Decimal("4")),
    ],
)
def test_half_days(start_half, end_half, expected):
    result = leave_days(
        start=MONDAY, end=FRIDAY, start_half=start_half, end_half=end_half, country="US"
    )

    assert result == expected


@pytest.mark.parametrize(
    ("start_half", "end_half", "expected"),
    [(True, False, Decimal("0.5")), (False, True, Decimal("0.5")), (True, True, Decimal("0.5"))],
)
def test_single_half_day(start_half, end_half, expected):
    result = leave_days(
        start=MONDAY, end=MONDAY, start_half=start_half, end_half=end_half, country="US"
    )

    assert result == expected


def test_half_day_on_a_non_working_day_counts_zero():
    # Starts on Saturday 7 March, ends on Friday 3 July (observed Independence Day).
    saturday_start = leave_days(
        start=date(2026, 3, 7), end=date(2026, 3, 10), start_half=True, country="US"
    )
    holiday_end = leave_days(
        start=date(2026, 6, 29), end=date(2026, 7, 3), end_half=True, country="US"
    )
    single_sunday = leave_days(
        start=date(2026, 3, 8), end=date(2026, 3, 8), start_half=True, country="US"
    )

    assert saturday_start == Decimal(2)
    assert holiday_end == Decimal(4)
    assert single_sunday == Decimal(0)


def test_custom_weekend():
    # Friday and Saturday off: Sun 1 .. Sat 7 March 2026 has five working days.
    result = leave_days(start=date(2026, 3, 1), end=date(2026, 3, 7), country="US", weekend=(4, 5))

    assert result == Decimal(5)


def test_end_before_start_is_refused():
    with pytest.raises(LeaveRangeError) as caught:
        leave_days(start=FRIDAY, end=MONDAY, country="US")

    assert isinstance(caught.value, ValueError)
    assert (caught.value.start, caught.value.end) == (FRIDAY, MONDAY)


def test_implausibly_long_range_is_refused():
    start = date(2026, 1, 1)
    longest = start + timedelta(days=MAX_LEAVE_SPAN_DAYS - 1)

    assert leave_days(start=start, end=longest, country="US") > Decimal(2000)
    with pytest.raises(LeaveRangeError, match="implausibly long"):
        leave_days(start=start, end=longest + timedelta(days=1), country="US")
    with pytest.raises(LeaveRangeError):
        leave_days(start=date(1, 1, 1), end=date(9999, 12, 31), country="US")


def test_unknown_country_is_refused():
    with pytest.raises(UnknownCountryError) as caught:
        leave_days(start=MONDAY, end=FRIDAY, country="XX")

    assert caught.value.country == "XX"


def test_unknown_subdivision_is_refused():
    with pytest.raises(UnknownSubdivisionError) as caught:
        leave_days(start=MONDAY, end=FRIDAY, country="US", subdivision="ZZ")

    assert isinstance(caught.value, UnknownCountryError)
    assert caught.value.subdivision == "ZZ"


def test_invalid_weekend_day_is_refused():
    with pytest.raises(ValueError, match="weekend"):
        leave_days(start=MONDAY, end=FRIDAY, country="US", weekend=(7,))


def test_public_holidays_lists_names():
    result = public_holidays(country="us", subdivision=None, year=2026)

    assert result[date(2026, 7, 3)] == "Independence Day (observed)"
    assert result[date(2026, 11, 26)] == "Thanksgiving Day"
    assert len(result) == 12


def test_public_holidays_returns_a_copy():
    first = public_holidays(country="GB", subdivision="ENG", year=2026)
    first.clear()

    assert public_holidays(country="GB", subdivision="ENG", year=2026)[date(2026, 4, 6)] == (
        "Easter Monday"
    )


@settings(deadline=None)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    length=st.integers(min_value=0, max_value=400),
    start_half=st.booleans(),
    end_half=st.booleans(),
    country=st.sampled_from(["US", "GB", "DE"]),
)
def test_leave_days_never_exceed_calendar_days(start, length, start_half, end_half, country):
    end = start + timedelta(days=length)

    result = leave_days(
        start=start, end=end, start_half=start_half, end_half=end_half, country=country
    )

    assert Decimal(0) <= result <= Decimal(length + 1)
    assert (result * 2) % 1 == 0
