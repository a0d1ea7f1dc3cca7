"""Reads for shifts and attendance: shift templates, the roster, punches and corrections.

Row scope of attendance (and of shift assignments) follows the employees' scope
(``apps.hr.selectors.people.employee_list``): an HR admin (``hr.access_all_employees``)
sees every record, also those of employees deleted since; anyone else sees the records of
the employees they may see (their own, their reports at any depth, departments granted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.hr import timecalc
from apps.hr.models import (
    AttendanceCorrection,
    AttendanceRecord,
    Employee,
    HrPolicy,
    ShiftAssignment,
    ShiftTemplate,
)
from apps.hr.selectors.people import (
    ALL_EMPLOYEES_PERMISSION,
    employee_for_user,
    employee_list,
    employee_report_ids,
)
from apps.hr.selectors.policy import hr_policy_get

# The roster is computed day by day in Python; two months is what a planner looks at, and
# the bound keeps one request's work small.
ROSTER_MAX_DAYS = 62
# Dates outside these years are refused where they feed time-zone arithmetic: near
# date.min / date.max a local midnight has no UTC instant.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


@dataclass(frozen=True, slots=True)
class ScheduledShift:
    """The rostered shift a punch belongs to; ``shift`` None means not rostered."""

    work_date: date
    shift: ShiftTemplate | None
    start_at: datetime | None
    end_at: datetime | None


@dataclass(frozen=True, slots=True)
class RosterDay:
    day: date
    shift: ShiftTemplate
    start_at: datetime
    end_at: datetime


def _visible_employees(actor: Actor) -> Q | None:
    """A filter on ``employee`` for the actor's row scope; None when they see everyone."""
    if actor.has_perm(ALL_EMPLOYEES_PERMISSION):
        return None
    visible = employee_list(actor=actor).prefetch_related(None).values("pk")
    return Q(employee__in=visible)


def actor_manages(*, actor: Actor, employee: Employee) -> bool:
    """True for an HR admin, or when ``employee`` reports to the actor at any depth.
    Nobody manages themselves: a manager's own punches go to their manager."""
    if actor.has_perm(ALL_EMPLOYEES_PERMISSION):
        return True
    own = employee_for_user(user=actor.user)
    if own is None or own.pk == employee.pk:
        return False
    return employee.pk in employee_report_ids(employee=own)


def hr_policy_read(*, actor: Actor) -> HrPolicy:
    require_perm(actor, "hr.view_hrpolicy")
    return hr_policy_get()


# --- shift templates -----------------------------------------------------------------------


def shift_template_list(*, actor: Actor) -> QuerySet[ShiftTemplate]:
    require_perm(actor, "hr.view_shifttemplate")
    return ShiftTemplate.objects.all()


def shift_template_get(*, actor: Actor, shift_id: object) -> ShiftTemplate:
    shift = shift_template_list(actor=actor).filter(pk=shift_id).first()
    if shift is None:
        raise NotFoundError()
    return shift


# --- assignments and the roster ------------------------------------------------------------


def shift_assignment_list(*, actor: Actor) -> QuerySet[ShiftAssignment]:
    require_perm(actor, "hr.view_shiftassignment")
    queryset = ShiftAssignment.objects.select_related("employee", "shift")
    scope = _visible_employees(actor)
    return queryset if scope is None else queryset.filter(scope)


def shift_assignment_get(*, actor: Actor, assignment_id: object) -> ShiftAssignment:
    assignment = shift_assignment_list(actor=actor).filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFoundError()
    return assignment


def _assignments_between(
    *, employee_ids: Iterable[object], date_from: date, date_to: date
) -> dict[object, list[ShiftAssignment]]:
    """Assignments overlapping the range, per employee, latest ``valid_from`` first."""
    queryset = (
        ShiftAssignment.objects.filter(employee_id__in=list(employee_ids), valid_from__lte=date_to)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=date_from))
        .select_related("shift")
        .order_by("employee_id", "-valid_from")
    )
    found: dict[object, list[ShiftAssignment]] = defaultdict(list)
    for assignment in queryset:
        found[assignment.employee_id].append(assignment)
    return found


def _shift_on(assignments: Sequence[ShiftAssignment], day: date) -> ShiftTemplate | None:
    # An assignment covers a day when the day is in its date range and on one of its
    # weekdays; among those, the latest valid_from wins (the model's documented rule).
    for assignment in assignments:
        if (
            assignment.valid_from <= day
            and (assignment.valid_to is None or day <= assignment.valid_to)
            and day.weekday() in assignment.weekdays
        ):
            return assignment.shift
    return None


def _window(shift: ShiftTemplate, day: date, time_zone: str) -> tuple[datetime, datetime]:
    return timecalc.shift_window(
        work_date=day, start=shift.start_time, end=shift.end_time, time_zone=time_zone
    )


def roster_days(
    *, employees: Sequence[Employee], date_from: date, date_to: date
) -> dict[object, list[RosterDay]]:
    """Per employee id, the days of [date_from, date_to] with a rostered shift and its UTC
    window in the employee's work time zone (days off are left out). One query."""
    by_employee = _assignments_between(
        employee_ids=[employee.pk for employee in employees], date_from=date_from, date_to=date_to
    )
    result: dict[object, list[RosterDay]] = {}
    for employee in employees:
        days: list[RosterDay] = []
        day = date_from
        while day <= date_to:
            shift = _shift_on(by_employee.get(employee.pk, []), day)
            if shift is not None:
                start_at, end_at = _window(shift, day, employee.work_time_zone)
                days.append(RosterDay(day=day, shift=shift, start_at=start_at, end_at=end_at))
            day += timedelta(days=1)
        result[employee.pk] = days
    return result


def roster_employees(*, actor: Actor, employee_id: object = None) -> QuerySet[Employee]:
    """The employees whose roster the actor may read (``hr.view_shiftassignment``)."""
    require_perm(actor, "hr.view_shiftassignment")
    employees = employee_list(actor=actor).prefetch_related(None)
    if employee_id is not None:
        employees = employees.filter(pk=employee_id)
    return employees


def shift_for_punch(*, employee: Employee, instant_utc: datetime) -> ScheduledShift:
    """The shift a punch at ``instant_utc`` belongs to, in the employee's work time zone.

    The rule: a punch before the scheduled end of the previous local day's shift that
    crosses midnight belongs to that shift (its work date is yesterday): someone arriving
    at 00:20 for, or still working, the 22:00-06:00 shift that started last night.
    Otherwise it belongs to today's rostered shift, if any. Otherwise it is not rostered
    and its work date is the local date of the punch.
    """
    zone = employee.work_time_zone
    today = timecalc.working_day_of(instant_utc=instant_utc, time_zone=zone)
    yesterday = today - timedelta(days=1)
    assignments = _assignments_between(
        employee_ids=[employee.pk], date_from=yesterday, date_to=today
    ).get(employee.pk, [])

    previous = _shift_on(assignments, yesterday)
    if previous is not None and previous.crosses_midnight:
        start_at, end_at = _window(previous, yesterday, zone)
        if instant_utc < end_at:
            return ScheduledShift(
                work_date=yesterday, shift=previous, start_at=start_at, end_at=end_at
            )
    current = _shift_on(assignments, today)
    if current is not None:
        start_at, end_at = _window(current, today, zone)
        return ScheduledShift(work_date=today, shift=current, start_at=start_at, end_at=end_at)
    return ScheduledShift(work_date=today, shift=None, start_at=None, end_at=None)


# --- attendance ----------------------------------------------------------------------------


def _attendance_queryset() -> QuerySet[AttendanceRecord]:
    return AttendanceRecord.objects.select_related(
        "employee", "shift", "check_in_location", "check_out_location"
    )


def attendance_list(*, actor: Actor) -> QuerySet[AttendanceRecord]:
    require_perm(actor, "hr.view_attendancerecord")
    scope = _visible_employees(actor)
    queryset = _attendance_queryset()
    return queryset if scope is None else queryset.filter(scope)


def attendance_get(*, actor: Actor, record_id: object) -> AttendanceRecord:
    record = attendance_list(actor=actor).filter(pk=record_id).first()
    if record is None:
        raise NotFoundError()
    return record


def attendance_list_for_employee(*, employee: Employee) -> QuerySet[AttendanceRecord]:
    """An employee's own records (self-service: being that employee is the permission)."""
    return _attendance_queryset().filter(employee=employee)


def attendance_open_for(*, employee: Employee) -> AttendanceRecord | None:
    return _attendance_queryset().filter(employee=employee, state="open").first()


def attendance_correction_list(
    *, actor: Actor, record: AttendanceRecord
) -> QuerySet[AttendanceCorrection]:
    """Corrections of a record the actor may see (check with attendance_get first)."""
    return AttendanceCorrection.objects.filter(record=record).select_related("corrected_by")
