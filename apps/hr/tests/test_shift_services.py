"""Shift templates, assignments, the roster and the HR policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.core.errors import PermissionDeniedError
from apps.hr.errors import AssignmentExistsError, NameTakenError, ShiftInUseError
from apps.hr.models import AttendanceRecord, HrPolicy, ShiftAssignment, ShiftTemplate
from apps.hr.selectors import attendance as selectors
from apps.hr.services import attendance as services
from apps.hr.tests.conftest import actor_of
from apps.hr.tests.test_attendance_services import assign, shift
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_shift_template_create_allows_crossing_midnight(admin_actor):
    template = services.shift_template_create(
        actor=admin_actor, name="Night", start_time=time(22), end_time=time(6), break_minutes=30
    )

    stored = ShiftTemplate.objects.get(pk=template.pk)
    assert stored.crosses_midnight is True
    assert stored.created_by == admin_actor.user


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"break_minutes": 480}, "break_minutes"),
        ({"break_minutes": -1}, "break_minutes"),
        ({"grace_minutes": 1440}, "grace_minutes"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_shift_template_is_refused(admin_actor, fields, field):
    values = {"name": "Day", "start_time": time(9), "end_time": time(17), **fields}

    with pytest.raises(ValidationError) as raised:
        services.shift_template_create(actor=admin_actor, **values)

    assert field in raised.value.message_dict
    assert not ShiftTemplate.objects.exists()


def test_shift_template_name_is_unique(admin_actor):
    shift("Day", time(9), time(17))

    with pytest.raises(NameTakenError):
        services.shift_template_create(
            actor=admin_actor, name="Day", start_time=time(8), end_time=time(16)
        )


def test_shift_in_use_cannot_be_deleted(admin_actor, make_employee):
    template = shift("Day", time(9), time(17))
    assign(make_employee("E-1"), template)

    with pytest.raises(ShiftInUseError):
        services.shift_template_delete(actor=admin_actor, shift=template)
    assert ShiftTemplate.objects.filter(pk=template.pk).exists()


def test_staff_cannot_create_shifts(in_tenant_a):
    with pytest.raises(PermissionDeniedError):
        services.shift_template_create(
            actor=actor_of(TENANT_A, "staff"), name="Day", start_time=time(9), end_time=time(17)
        )


def test_assignment_create_sorts_weekdays_and_refuses_duplicates(admin_actor, make_employee):
    employee = make_employee("E-1")
    template = shift("Day", time(9), time(17))

    assignment = services.shift_assignment_create(
        actor=admin_actor,
        employee=employee.pk,
        shift=template.pk,
        weekdays=[4, 0, 2, 0],
        valid_from=date(2026, 6, 1),
    )

    assert ShiftAssignment.objects.get(pk=assignment.pk).weekdays == [0, 2, 4]
    with pytest.raises(AssignmentExistsError):
        services.shift_assignment_create(
            actor=admin_actor,
            employee=employee.pk,
            shift=template.pk,
            weekdays=[1],
            valid_from=date(2026, 6, 1),
        )
    assert ShiftAssignment.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": [7]}, "weekdays"),
        ({"valid_to": date(2026, 5, 1)}, "valid_to"),
        ({"employee": "00000000-0000-4000-8000-000000000999"}, "employee"),
        ({"valid_from": date(1800, 1, 1)}, "valid_from"),
    ],
)
def test_bad_assignment_is_refused(admin_actor, make_employee, fields, field):
    values = {
        "employee": make_employee("E-1").pk,
        "shift": shift("Day", time(9), time(17)).pk,
        "weekdays": [0],
        "valid_from": date(2026, 6, 1),
        **fields,
    }

    with pytest.raises(ValidationError) as raised:
        services.shift_assignment_create(actor=admin_actor, **values)

    assert field in raised.value.message_dict
    assert not ShiftAssignment.objects.exists()


def test_roster_gives_utc_windows_in_the_employees_zone(make_employee):
    employee = make_employee("E-1", work_time_zone="America/New_York")
    night = shift("Night", time(22), time(6))
    day = shift("Day", time(9), time(17))
    assign(employee, night, valid_from=date(2026, 3, 1), weekdays=[5])  # Saturdays
    # From the 8th, a weekday day shift joins; Saturdays keep the night shift.
    assign(employee, day, valid_from=date(2026, 3, 8), weekdays=[0, 1, 2, 3, 4])

    roster = selectors.roster_days(
        employees=[employee], date_from=date(2026, 3, 6), date_to=date(2026, 3, 9)
    )

    days = [(d.day, d.shift.name, d.start_at, d.end_at) for d in roster[employee.pk]]
    assert days == [
        # Saturday 7 March: 22:00 EST to 06:00 EDT, seven hours across the clock change.
        (date(2026, 3, 7), "Night", utc(2026, 3, 8, 3), utc(2026, 3, 8, 10)),
        (date(2026, 3, 9), "Day", utc(2026, 3, 9, 13), utc(2026, 3, 9, 21)),
    ]


def test_later_assignment_wins_where_both_cover_the_day(make_employee):
    employee = make_employee("E-1")
    assign(employee, shift("Early", time(6), time(14)), valid_from=date(2026, 1, 1))
    assign(employee, shift("Late", time(14), time(22)), valid_from=date(2026, 6, 1))

    roster = selectors.roster_days(
        employees=[employee], date_from=date(2026, 5, 31), date_to=date(2026, 6, 1)
    )

    assert [d.shift.name for d in roster[employee.pk]] == ["Early", "Late"]


def test_roster_respects_valid_to(make_employee):
    employee = make_employee("E-1")
    assign(employee, shift("Day", time(9), time(17)), valid_to=date(2026, 6, 2))

    roster = selectors.roster_days(
        employees=[employee], date_from=date(2026, 6, 1), date_to=date(2026, 6, 4)
    )

    assert [d.day for d in roster[employee.pk]] == [date(2026, 6, 1), date(2026, 6, 2)]


def test_policy_update_normalises_and_validates(admin_actor):
    policy = services.hr_policy_update(
        actor=admin_actor,
        data={"outside_geofence": "needs_approval", "currency": "usd", "weekend_days": [6, 4]},
    )

    stored = HrPolicy.objects.get(pk=policy.pk)
    assert (stored.outside_geofence, stored.currency) == ("needs_approval", "USD")
    assert stored.weekend_days == [4, 6]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"holiday_country": "ZZ"}, "holiday_country"),
        ({"holiday_country": "US", "holiday_subdivision": "XX"}, "holiday_subdivision"),
        ({"weekend_days": [5, 5]}, "weekend_days"),
        ({"standard_day_hours": Decimal(0)}, "standard_day_hours"),
        ({"currency": "E1"}, "currency"),
    ],
)
def test_bad_policy_changes_nothing(admin_actor, data, field):
    before = selectors.hr_policy_read(actor=admin_actor)

    with pytest.raises(ValidationError) as raised:
        services.hr_policy_update(actor=admin_actor, data=data)

    assert field in raised.value.message_dict
    after = HrPolicy.objects.get(pk=before.pk)
    assert (after.holiday_country, after.currency, after.weekend_days) == ("GB", "GBP", [5, 6])


def test_staff_cannot_change_the_policy(in_tenant_a):
    with pytest.raises(PermissionDeniedError):
        services.hr_policy_update(actor=actor_of(TENANT_A, "staff"), data={"currency": "EUR"})


def test_record_keeps_its_shift_when_the_assignment_goes(admin_actor, make_employee):
    employee = make_employee("E-1")
    template = shift("Day", time(9), time(17))
    assignment = assign(employee, template)
    AttendanceRecord.objects.create(
        employee=employee,
        work_date=date(2026, 6, 15),
        shift=template,
        check_in_at=utc(2026, 6, 15, 9),
        punched_in_at=utc(2026, 6, 15, 9),
    )

    services.shift_assignment_delete(actor=admin_actor, assignment=assignment)

    assert AttendanceRecord.objects.get().shift == template
