"""Attendance services: geofence, work date and shift resolution across midnight and DST,
minutes, approvals, corrections and the auto-close of abandoned shifts.

Punch times are passed as ``now=`` (the API never does: it uses the server clock).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.models import Role
from apps.core.errors import PermissionDeniedError
from apps.hr.errors import (
    AlreadyCheckedInError,
    AttendanceNotPendingError,
    EmployeeInactiveError,
    NoEmployeeRecordError,
    NoOpenShiftError,
    NotManagerOfEmployeeError,
    OutsideGeofenceError,
)
from apps.hr.models import (
    AttendanceCorrection,
    AttendanceRecord,
    HrPolicy,
    ShiftAssignment,
    ShiftTemplate,
    WorkLocation,
)
from apps.hr.selectors import attendance as selectors
from apps.hr.selectors.policy import hr_policy_get
from apps.hr.services import attendance as services
from apps.hr.tasks.attendance import attendance_auto_close
from apps.hr.tests.conftest import actor_of
from tests.fixtures import persona
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
# Inside the London office's fence (120 m around 51.5136, -0.0903), and 1 km east of it.
AT_LONDON = {"latitude": "51.513700", "longitude": "-0.090400", "accuracy_m": 15}
AWAY_FROM_LONDON = {"latitude": "51.513600", "longitude": "-0.076000", "accuracy_m": 15}
AT_NEW_YORK = {"latitude": 40.7484, "longitude": -73.9857, "accuracy_m": 10}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- helpers shared with the other attendance test modules ---------------------------------


def location(name: str = "London office", **fields) -> WorkLocation:
    values = {
        "latitude": Decimal("51.513600"),
        "longitude": Decimal("-0.090300"),
        "radius_m": 120,
        "time_zone": LONDON,
    }
    if name == "New York office":
        values.update(latitude=Decimal("40.748400"), longitude=Decimal("-73.985700"))
        values.update(radius_m=150, time_zone=NEW_YORK)
    values.update(fields)
    return WorkLocation.objects.create(name=name, **values)


def shift(name: str, start: time, end: time, *, break_minutes=0, grace_minutes=0):
    return ShiftTemplate.objects.create(
        name=name,
        start_time=start,
        end_time=end,
        break_minutes=break_minutes,
        grace_minutes=grace_minutes,
    )


def assign(employee, template, *, valid_from=date(2026, 1, 1), weekdays=None, **fields):
    return ShiftAssignment.objects.create(
        employee=employee,
        shift=template,
        weekdays=list(range(7)) if weekdays is None else weekdays,
        valid_from=valid_from,
        **fields,
    )


def give_role(name: str, slug: str) -> None:
    persona(TENANT_A, name).roles.add(Role.objects.get(slug=slug))


@pytest.fixture
def london_office(in_tenant_a) -> WorkLocation:
    return location()


@pytest.fixture
def staff(make_employee, london_office):
    """The staff persona's employee: London time, allowed at the London office."""
    employee = make_employee("S-1", user=persona(TENANT_A, "staff"), work_time_zone=LONDON)
    employee.allowed_locations.set([london_office])
    return employee


@pytest.fixture
def staff_actor(staff):
    return actor_of(TENANT_A, "staff")


def check_in(actor, at: datetime, where=None):
    return services.attendance_check_in(actor=actor, now=at, **(where or AT_LONDON))


def check_out(actor, at: datetime, where=None):
    return services.attendance_check_out(actor=actor, now=at, **(where or AT_LONDON))


def _snapshot() -> list[tuple]:
    return list(
        AttendanceRecord.objects.order_by("pk").values_list(
            "pk", "state", "check_in_at", "check_out_at", "approval", "worked_minutes"
        )
    )


# --- check-in: geofence --------------------------------------------------------------------


def test_check_in_inside_the_fence_stores_the_punch(staff, staff_actor, london_office):
    record = check_in(staff_actor, utc(2026, 6, 15, 8, 2))

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert stored.employee == staff
    assert stored.state == "open"
    assert stored.approval == "not_required"
    assert stored.check_in_at == stored.punched_in_at == utc(2026, 6, 15, 8, 2)
    assert stored.check_in_latitude == Decimal("51.513700")
    assert stored.check_in_accuracy_m == Decimal("15.0")
    assert stored.check_in_location == london_office
    assert stored.work_date == date(2026, 6, 15)
    assert stored.shift is None
    assert stored.created_by == persona(TENANT_A, "staff")


def test_check_in_outside_the_fence_is_refused_and_stores_nothing(staff, staff_actor):
    with pytest.raises(OutsideGeofenceError) as raised:
        check_in(staff_actor, utc(2026, 6, 15, 8), AWAY_FROM_LONDON)

    assert raised.value.details["reason"] == "distance"
    assert raised.value.details["nearest_location"] == "London office"
    assert 950 < raised.value.details["distance_m"] < 1050
    assert not AttendanceRecord.objects.exists()


def test_imprecise_fix_counts_as_outside(staff, staff_actor):
    with pytest.raises(OutsideGeofenceError) as raised:
        check_in(staff_actor, utc(2026, 6, 15, 8), {**AT_LONDON, "accuracy_m": 500})

    assert raised.value.details["reason"] == "accuracy"
    assert raised.value.details["max_accuracy_m"] == 200
    assert not AttendanceRecord.objects.exists()


def test_outside_the_fence_needs_approval_when_the_policy_says_so(staff, staff_actor):
    HrPolicy.objects.filter(pk=hr_policy_get().pk).update(outside_geofence="needs_approval")

    record = check_in(staff_actor, utc(2026, 6, 15, 8), AWAY_FROM_LONDON)

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert stored.approval == "pending"
    assert stored.check_in_location is None
    assert stored.check_in_longitude == Decimal("-0.076000")


def test_geofence_exempt_employee_checks_in_anywhere(staff, staff_actor):
    staff.is_geofence_exempt = True
    staff.save()

    record = check_in(staff_actor, utc(2026, 6, 15, 8), AT_NEW_YORK)

    assert record.approval == "not_required"
    assert record.check_in_location is None


def test_employee_without_locations_is_outside(staff, staff_actor):
    staff.allowed_locations.clear()

    with pytest.raises(OutsideGeofenceError) as raised:
        check_in(staff_actor, utc(2026, 6, 15, 8))

    assert raised.value.details == {"reason": "no_locations", "accuracy_m": "15.0"}


def test_nearest_matching_location_is_recorded(staff, staff_actor, london_office):
    second = location("London annex", latitude=Decimal("51.516000"), radius_m=500)
    staff.allowed_locations.add(second)

    record = check_in(staff_actor, utc(2026, 6, 15, 8))

    assert record.check_in_location == london_office


@pytest.mark.parametrize(
    ("where", "fields"),
    [
        ({"latitude": None, "longitude": None, "accuracy_m": None}, {"latitude", "longitude"}),
        ({"latitude": 91, "longitude": 0, "accuracy_m": 5}, {"latitude"}),
        ({"latitude": 0, "longitude": -180.5, "accuracy_m": 5}, {"longitude"}),
        ({"latitude": "NaN", "longitude": "inf", "accuracy_m": -1}, {"latitude", "longitude"}),
        ({"latitude": 1, "longitude": 1, "accuracy_m": 10**9}, {"accuracy_m"}),
        ({"latitude": True, "longitude": "east", "accuracy_m": 5}, {"latitude", "longitude"}),
    ],
)
def test_absurd_coordinates_are_refused(staff, staff_actor, where, fields):
    with pytest.raises(ValidationError) as raised:
        check_in(staff_actor, utc(2026, 6, 15, 8), where)

    assert fields <= set(raised.value.message_dict)
    assert not AttendanceRecord.objects.exists()


def test_distance_is_haversine():
    # London to Paris (city centres), about 343.5 km.
    assert services.distance_m(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(
        343_500, rel=0.005
    )
    assert services.distance_m(10, 20, 10, 20) == 0


# --- check-in: who, and one open shift -----------------------------------------------------


def test_account_without_employee_cannot_check_in(in_tenant_a):
    with pytest.raises(NoEmployeeRecordError):
        check_in(actor_of(TENANT_A, "outsider"), utc(2026, 6, 15, 8))


def test_former_employee_cannot_check_in(staff, staff_actor):
    staff.employment_end = date(2026, 5, 31)
    staff.save()

    with pytest.raises(EmployeeInactiveError):
        check_in(staff_actor, utc(2026, 6, 15, 8))
    assert not AttendanceRecord.objects.exists()


def test_second_check_in_while_open_is_refused(staff, staff_actor):
    first = check_in(staff_actor, utc(2026, 6, 15, 8))

    with pytest.raises(AlreadyCheckedInError) as raised:
        check_in(staff_actor, utc(2026, 6, 15, 9))

    assert raised.value.details == {"record_id": first.pk}
    assert AttendanceRecord.objects.get().pk == first.pk


def test_racing_check_in_is_settled_by_the_constraint(staff, staff_actor, monkeypatch):
    """The pre-check can miss a record a concurrent request has just inserted; the
    partial unique constraint then refuses the insert, and the error is the same."""
    first = check_in(staff_actor, utc(2026, 6, 15, 8))
    monkeypatch.setattr(selectors, "attendance_open_for", lambda **kwargs: None)

    with pytest.raises(AlreadyCheckedInError):
        check_in(staff_actor, utc(2026, 6, 15, 8, 0, 1))

    assert list(AttendanceRecord.objects.values_list("pk", flat=True)) == [first.pk]


# --- check-out -----------------------------------------------------------------------------


def test_check_out_without_check_in_is_refused(staff, staff_actor):
    with pytest.raises(NoOpenShiftError):
        check_out(staff_actor, utc(2026, 6, 15, 17))
    assert not AttendanceRecord.objects.exists()


def test_check_out_without_roster_counts_worked_minutes_only(staff, staff_actor, london_office):
    check_in(staff_actor, utc(2026, 6, 15, 8, 0, 30))

    record = check_out(staff_actor, utc(2026, 6, 15, 16, 45))

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert stored.state == "closed"
    assert stored.check_out_at == stored.punched_out_at == utc(2026, 6, 15, 16, 45)
    assert stored.check_out_location == london_office
    assert (stored.worked_minutes, stored.late_minutes) == (524, 0)
    assert (stored.early_leave_minutes, stored.overtime_minutes) == (0, 0)


def test_check_out_outside_the_fence_is_refused_and_keeps_the_record_open(staff, staff_actor):
    record = check_in(staff_actor, utc(2026, 6, 15, 8))

    with pytest.raises(OutsideGeofenceError):
        check_out(staff_actor, utc(2026, 6, 15, 17), AWAY_FROM_LONDON)

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert (stored.state, stored.check_out_at, stored.worked_minutes) == ("open", None, 0)


def test_check_out_outside_the_fence_marks_for_approval_under_that_policy(staff, staff_actor):
    HrPolicy.objects.filter(pk=hr_policy_get().pk).update(outside_geofence="needs_approval")
    check_in(staff_actor, utc(2026, 6, 15, 8))

    record = check_out(staff_actor, utc(2026, 6, 15, 17), AWAY_FROM_LONDON)

    assert (record.state, record.approval) == ("closed", "pending")


def test_day_shift_lateness_grace_early_leave(staff, staff_actor):
    assign(staff, shift("Day", time(9), time(17), break_minutes=60, grace_minutes=5))
    # 09:04 BST is within the grace period; leaving 16:30 is 30 minutes early.
    check_in(staff_actor, utc(2026, 6, 15, 8, 4))

    record = check_out(staff_actor, utc(2026, 6, 15, 15, 30))

    assert record.scheduled_start_at == utc(2026, 6, 15, 8)
    assert record.scheduled_end_at == utc(2026, 6, 15, 16)
    assert (record.worked_minutes, record.late_minutes) == (386, 0)
    assert (record.early_leave_minutes, record.overtime_minutes) == (30, 0)


def test_lateness_beyond_grace_counts_in_full_and_overtime(staff, staff_actor):
    assign(staff, shift("Day", time(9), time(17), break_minutes=60, grace_minutes=5))
    check_in(staff_actor, utc(2026, 6, 15, 8, 12))

    record = check_out(staff_actor, utc(2026, 6, 15, 17, 42))

    assert (record.late_minutes, record.early_leave_minutes) == (12, 0)
    assert (record.worked_minutes, record.overtime_minutes) == (510, 90)


# --- work date, midnight and DST -----------------------------------------------------------


@pytest.fixture
def night(staff):
    template = shift("Night", time(22), time(6), break_minutes=30, grace_minutes=10)
    assign(staff, template)
    return template


def _in_zone(employee, zone: str):
    employee.work_time_zone = zone
    employee.save()


def test_check_in_after_midnight_belongs_to_last_nights_shift(staff, staff_actor, night):
    # 00:20 BST on 16 June: the 22:00-06:00 shift that started on the 15th.
    record = check_in(staff_actor, utc(2026, 6, 15, 23, 20))

    assert record.work_date == date(2026, 6, 15)
    assert record.shift == night
    assert record.scheduled_start_at == utc(2026, 6, 15, 21)
    assert record.scheduled_end_at == utc(2026, 6, 16, 5)


def test_check_in_before_the_night_shift_belongs_to_today(staff, staff_actor, night):
    record = check_in(staff_actor, utc(2026, 6, 15, 20, 55))  # 21:55 BST

    assert (record.work_date, record.shift) == (date(2026, 6, 15), night)


def test_check_in_after_last_nights_shift_ended_is_todays(staff, staff_actor, night):
    day = shift("Day", time(9), time(17))
    assign(staff, day, valid_from=date(2026, 6, 1), weekdays=[0])  # Mondays: the later start

    record = check_in(staff_actor, utc(2026, 6, 15, 7, 30))  # Monday 08:30 BST

    assert (record.work_date, record.shift) == (date(2026, 6, 15), day)


def test_night_shift_across_midnight_minutes(staff, staff_actor, night):
    check_in(staff_actor, utc(2026, 6, 15, 21, 25))  # 22:25 BST, 25 min late

    record = check_out(staff_actor, utc(2026, 6, 16, 5, 30))  # 06:30 BST

    assert record.work_date == date(2026, 6, 15)
    assert (record.late_minutes, record.early_leave_minutes) == (25, 0)
    assert (record.worked_minutes, record.overtime_minutes) == (455, 5)


def test_new_york_spring_forward_night_lasts_seven_hours(staff, staff_actor, night):
    _in_zone(staff, NEW_YORK)
    staff.is_geofence_exempt = True
    staff.save()
    # 22:00 EST on 7 March 2026; clocks jump 02:00 -> 03:00; 06:00 EDT on the 8th.
    check_in(staff_actor, utc(2026, 3, 8, 3))

    record = check_out(staff_actor, utc(2026, 3, 8, 10))

    assert record.work_date == date(2026, 3, 7)
    assert (record.scheduled_start_at, record.scheduled_end_at) == (
        utc(2026, 3, 8, 3),
        utc(2026, 3, 8, 10),
    )
    assert (record.worked_minutes, record.late_minutes) == (390, 0)
    assert (record.early_leave_minutes, record.overtime_minutes) == (0, 0)


def test_new_york_spring_forward_check_in_after_midnight(staff, staff_actor, night):
    _in_zone(staff, NEW_YORK)
    staff.is_geofence_exempt = True
    staff.save()

    record = check_in(staff_actor, utc(2026, 3, 8, 5, 20))  # 00:20 EST on the 8th

    assert record.work_date == date(2026, 3, 7)
    assert record.shift == night


def test_new_york_fall_back_night_lasts_nine_hours(staff, staff_actor, night):
    _in_zone(staff, NEW_YORK)
    staff.is_geofence_exempt = True
    staff.save()
    # 22:00 EDT on 31 October; 02:00 EDT -> 01:00 EST; 06:00 EST on 1 November.
    check_in(staff_actor, utc(2026, 11, 1, 2))

    record = check_out(staff_actor, utc(2026, 11, 1, 11))

    assert record.work_date == date(2026, 10, 31)
    assert record.scheduled_end_at == utc(2026, 11, 1, 11)
    assert (record.worked_minutes, record.overtime_minutes) == (510, 0)
    assert record.early_leave_minutes == 0


def test_new_york_fall_back_leaving_at_the_first_six_is_early(staff, staff_actor, night):
    _in_zone(staff, NEW_YORK)
    staff.is_geofence_exempt = True
    staff.save()
    check_in(staff_actor, utc(2026, 11, 1, 2))

    # Leaving after 8 real hours: 05:00 EST, an hour before the scheduled 06:00 EST.
    record = check_out(staff_actor, utc(2026, 11, 1, 10))

    assert (record.worked_minutes, record.early_leave_minutes) == (450, 60)


def test_london_spring_forward_night_with_overtime(staff, staff_actor, night):
    # 22:00 GMT on 28 March 2026; 01:00 GMT -> 02:00 BST; out at 06:30 BST = 05:30 UTC.
    check_in(staff_actor, utc(2026, 3, 28, 22))

    record = check_out(staff_actor, utc(2026, 3, 29, 5, 30))

    assert record.work_date == date(2026, 3, 28)
    assert record.scheduled_end_at == utc(2026, 3, 29, 5)
    assert (record.worked_minutes, record.overtime_minutes) == (420, 30)


def test_same_instant_is_a_different_work_date_in_two_zones(make_employee, in_tenant_a):
    for number, zone, name in (("NY", NEW_YORK, "staff"), ("LN", LONDON, "admin")):
        make_employee(
            number, user=persona(TENANT_A, name), work_time_zone=zone, is_geofence_exempt=True
        )
    instant = utc(2026, 6, 15, 3)  # 23:00 EDT on the 14th, 04:00 BST on the 15th

    new_york = check_in(actor_of(TENANT_A, "staff"), instant)
    london = check_in(actor_of(TENANT_A, "admin"), instant)

    assert new_york.work_date == date(2026, 6, 14)
    assert london.work_date == date(2026, 6, 15)


# --- approvals -----------------------------------------------------------------------------


@pytest.fixture
def team(make_employee, staff):
    """staff (with the manager role) manages ``report``, who manages ``second``."""
    give_role("staff", "manager")
    report = make_employee("R-1", user=persona(TENANT_A, "outsider"), work_time_zone=LONDON)
    second = make_employee("R-2", manager=report)
    report.manager = staff
    report.save()
    return {"report": report, "second": second}


def _record(employee, **fields) -> AttendanceRecord:
    values = {
        "work_date": date(2026, 6, 15),
        "check_in_at": utc(2026, 6, 15, 8),
        "punched_in_at": utc(2026, 6, 15, 8),
        "approval": "pending",
    }
    values.update(fields)
    return AttendanceRecord.objects.create(employee=employee, **values)


@pytest.mark.parametrize("who", ["report", "second"])
def test_manager_approves_a_pending_punch_of_a_report(team, who):
    record = _record(team[who])

    services.attendance_approve(actor=actor_of(TENANT_A, "staff"), record=record)

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert stored.approval == "approved"
    assert stored.updated_by == persona(TENANT_A, "staff")


def test_manager_rejects_a_pending_punch(team):
    record = _record(team["report"])

    services.attendance_reject(actor=actor_of(TENANT_A, "staff"), record=record)

    assert AttendanceRecord.objects.get(pk=record.pk).approval == "rejected"


def test_nobody_approves_their_own_punch(team, staff):
    record = _record(staff)

    with pytest.raises(NotManagerOfEmployeeError):
        services.attendance_approve(actor=actor_of(TENANT_A, "staff"), record=record)
    assert AttendanceRecord.objects.get(pk=record.pk).approval == "pending"


def test_approval_needs_the_permission(staff, make_employee):
    report = make_employee("R-1", manager=staff)
    record = _record(report)

    with pytest.raises(PermissionDeniedError):
        services.attendance_approve(actor=actor_of(TENANT_A, "staff"), record=record)
    assert AttendanceRecord.objects.get(pk=record.pk).approval == "pending"


def test_only_pending_punches_are_decided(team, admin_actor):
    record = _record(team["report"], approval="not_required")

    with pytest.raises(AttendanceNotPendingError):
        services.attendance_approve(actor=admin_actor, record=record)


# --- corrections ---------------------------------------------------------------------------


def test_correction_keeps_the_punches_and_records_who_changed_what(team):
    template = shift("Day", time(9), time(17), break_minutes=60)
    record = _record(
        team["report"],
        shift=template,
        state="auto_closed",
        check_out_at=utc(2026, 6, 15, 23),
        needs_review=True,
        worked_minutes=840,
        approval="not_required",
    )

    correction = services.attendance_correct(
        actor=actor_of(TENANT_A, "staff"),
        record=record,
        check_in_at=utc(2026, 6, 15, 8),
        check_out_at=utc(2026, 6, 15, 16, 30),
        reason="Forgot to check out; left at 17:30.",
    )

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert stored.punched_in_at == utc(2026, 6, 15, 8)
    assert stored.punched_out_at is None
    assert (stored.check_in_at, stored.check_out_at) == (
        utc(2026, 6, 15, 8),
        utc(2026, 6, 15, 16, 30),
    )
    assert (stored.worked_minutes, stored.overtime_minutes) == (450, 30)
    assert stored.needs_review is False
    assert stored.state == "auto_closed"
    saved = AttendanceCorrection.objects.get(record=record)
    assert saved.pk == correction.pk
    assert saved.previous_check_in_at == utc(2026, 6, 15, 8)
    assert saved.previous_check_out_at == utc(2026, 6, 15, 23)
    assert saved.corrected_by == persona(TENANT_A, "staff")
    assert saved.reason == "Forgot to check out; left at 17:30."


def test_correcting_an_open_record_with_a_check_out_closes_it(team):
    record = _record(team["report"], approval="not_required")

    services.attendance_correct(
        actor=actor_of(TENANT_A, "staff"),
        record=record,
        check_in_at=utc(2026, 6, 15, 7, 50),
        check_out_at=utc(2026, 6, 15, 12),
        reason="Half day, agreed.",
    )

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert (stored.state, stored.worked_minutes) == ("closed", 250)


@pytest.mark.parametrize(
    ("check_in_at", "check_out_at", "reason", "field"),
    [
        (utc(2026, 6, 15, 8), utc(2026, 6, 15, 7), "x", "check_out_at"),
        (utc(2026, 6, 15, 8), utc(2026, 6, 17, 8), "x", "check_out_at"),
        (utc(2026, 6, 20, 8), utc(2026, 6, 20, 9), "x", "check_in_at"),
        (utc(2026, 6, 15, 8), utc(2026, 6, 15, 9), "   ", "reason"),
        (utc(2026, 6, 15, 8), None, "x", "check_out_at"),
        (utc(2026, 6, 15, 8), datetime(2026, 6, 15, 9), "x", "check_out_at"),  # noqa: DTZ001
    ],
    ids=[
        "out-before-in",
        "too-long",
        "far-from-work-date",
        "no-reason",
        "closed-needs-out",
        "naive",
    ],
)
def test_bad_correction_changes_nothing(team, check_in_at, check_out_at, reason, field):
    record = _record(team["report"], state="closed", check_out_at=utc(2026, 6, 15, 16))

    with pytest.raises(ValidationError) as raised:
        services.attendance_correct(
            actor=actor_of(TENANT_A, "staff"),
            record=record,
            check_in_at=check_in_at,
            check_out_at=check_out_at,
            reason=reason,
        )

    assert field in raised.value.message_dict
    assert not AttendanceCorrection.objects.exists()
    assert AttendanceRecord.objects.get(pk=record.pk).check_out_at == utc(2026, 6, 15, 16)


def test_correction_in_the_future_is_refused(team):
    record = _record(team["report"], state="closed", check_out_at=utc(2026, 6, 15, 16))

    with pytest.raises(ValidationError) as raised:
        services.attendance_correct(
            actor=actor_of(TENANT_A, "staff"),
            record=record,
            check_in_at=utc(2026, 6, 15, 8),
            check_out_at=utc(2026, 6, 15, 16),
            reason="x",
            now=utc(2026, 6, 15, 12),
        )

    assert "check_out_at" in raised.value.message_dict


def test_peer_cannot_correct(make_employee, staff):
    give_role("staff", "manager")
    peer = make_employee("P-1")
    record = _record(peer, state="closed", check_out_at=utc(2026, 6, 15, 16))

    with pytest.raises(NotManagerOfEmployeeError):
        services.attendance_correct(
            actor=actor_of(TENANT_A, "staff"),
            record=record,
            check_in_at=utc(2026, 6, 15, 9),
            check_out_at=utc(2026, 6, 15, 16),
            reason="x",
        )
    assert not AttendanceCorrection.objects.exists()


# --- auto-close ----------------------------------------------------------------------------


@pytest.fixture
def two_zones(make_employee):
    new_york = make_employee("NY", work_time_zone=NEW_YORK)
    london = make_employee("LN", work_time_zone=LONDON)
    return {
        # 10:00 EDT and 11:00 BST on 15 June, not rostered.
        "new_york": _record(new_york, check_in_at=utc(2026, 6, 15, 14), approval="not_required"),
        "london": _record(london, check_in_at=utc(2026, 6, 15, 10), approval="not_required"),
    }


def test_auto_close_at_local_midnight_in_each_zone(two_zones):
    first = services.attendance_auto_close(now=utc(2026, 6, 15, 23, 30))
    london = AttendanceRecord.objects.get(pk=two_zones["london"].pk)
    new_york = AttendanceRecord.objects.get(pk=two_zones["new_york"].pk)

    assert first == 1
    assert (london.state, london.check_out_at) == ("auto_closed", utc(2026, 6, 15, 23))
    assert london.punched_out_at is None
    assert (london.needs_review, london.worked_minutes) == (True, 780)
    assert (new_york.state, new_york.check_out_at) == ("open", None)

    second = services.attendance_auto_close(now=utc(2026, 6, 16, 4, 1))
    new_york = AttendanceRecord.objects.get(pk=two_zones["new_york"].pk)

    assert second == 1
    assert (new_york.state, new_york.check_out_at) == ("auto_closed", utc(2026, 6, 16, 4))
    assert new_york.worked_minutes == 840


def test_auto_close_is_idempotent_and_deletes_nothing(two_zones):
    services.attendance_auto_close(now=utc(2026, 6, 16, 12))
    before = _snapshot()

    again = services.attendance_auto_close(now=utc(2026, 6, 16, 12))

    assert again == 0
    assert _snapshot() == before
    assert len(before) == 2


def test_night_shift_is_not_cut_at_midnight(staff, staff_actor, night):
    record = check_in(staff_actor, utc(2026, 6, 15, 20, 58))  # 21:58 BST

    services.attendance_auto_close(now=utc(2026, 6, 16, 1))  # 02:00 BST, still at work
    assert AttendanceRecord.objects.get(pk=record.pk).state == "open"

    closed = services.attendance_auto_close(now=utc(2026, 6, 16, 23, 5))

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert closed == 1
    # The midnight after the shift's scheduled end (06:00 BST on the 16th).
    assert (stored.state, stored.check_out_at) == ("auto_closed", utc(2026, 6, 16, 23))
    assert stored.overtime_minutes > 0


def test_auto_close_task_runs_in_the_tenant_twice(make_employee, in_tenant_a):
    from django.utils import timezone

    employee = make_employee("OLD", work_time_zone=NEW_YORK)
    three_days_ago = timezone.now() - timedelta(days=3)
    record = _record(employee, check_in_at=three_days_ago, approval="not_required")

    first = attendance_auto_close(schema_name=TENANT_A)
    second = attendance_auto_close(schema_name=TENANT_A)

    stored = AttendanceRecord.objects.get(pk=record.pk)
    assert (first, second) == (1, 0)
    assert stored.state == "auto_closed"
    assert stored.needs_review is True
