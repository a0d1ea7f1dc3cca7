"""Writes for shifts and attendance: the HR policy, shift templates, the roster, punches,
approvals, corrections and the auto-close of abandoned shifts.

Every punch takes its time from the server clock; the client sends only where it is.
Instants are stored in UTC and every local figure (work date, lateness, midnight) is
computed in the employee's work time zone by apps.hr.timecalc. Invalid input raises
Django's ValidationError with field names (400); refused actions raise apps.hr.errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.selectors import require_perm
from apps.core.types import Actor
from apps.hr import calendar, timecalc
from apps.hr.errors import (
    AlreadyCheckedInError,
    AssignmentExistsError,
    AttendanceNotPendingError,
    EmployeeInactiveError,
    NameTakenError,
    NoEmployeeRecordError,
    NoOpenShiftError,
    NotManagerOfEmployeeError,
    OutsideGeofenceError,
    ShiftInUseError,
)
from apps.hr.models import (
    AttendanceCorrection,
    AttendanceRecord,
    Employee,
    HrPolicy,
    ShiftAssignment,
    ShiftTemplate,
    WorkLocation,
)
from apps.hr.selectors import attendance as selectors
from apps.hr.selectors.policy import hr_policy_get
from apps.hr.services.common import audit_fields, references_apply
from apps.hr.services.people import _unique_save

OPEN = AttendanceRecord.State.OPEN
CLOSED = AttendanceRecord.State.CLOSED
AUTO_CLOSED = AttendanceRecord.State.AUTO_CLOSED
PENDING = AttendanceRecord.Approval.PENDING

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
# Phones report accuracy in metres; beyond 100 km the fix says nothing about a workplace.
MAX_ACCURACY_M = Decimal(100_000)
# A corrected shift longer than this is a typing error, not a shift (24 h shifts plus a
# long handover still fit).
MAX_CORRECTED_SPAN = timedelta(hours=36)
_ONE_OPEN_CONSTRAINT = "hr_attendance_one_open_per_employee"
_MINUTE = timedelta(minutes=1)


# --- policy --------------------------------------------------------------------------------

POLICY_FIELDS = (
    "outside_geofence",
    "max_accuracy_m",
    "holiday_country",
    "holiday_subdivision",
    "weekend_days",
    "standard_day_hours",
    "overtime_multiplier",
    "currency",
)


def hr_policy_validate(policy: HrPolicy) -> None:
    """ValidationError naming every bad field of ``policy`` (also used by the admin form)."""
    errors: dict[str, list[str]] = {}
    if policy.outside_geofence not in HrPolicy.OutsideGeofence.values:
        errors["outside_geofence"] = [f"One of {', '.join(HrPolicy.OutsideGeofence.values)}."]
    if not 1 <= policy.max_accuracy_m <= MAX_ACCURACY_M:
        errors["max_accuracy_m"] = [f"From 1 to {MAX_ACCURACY_M} metres."]
    if len(set(policy.weekend_days)) != len(policy.weekend_days) or not set(
        policy.weekend_days
    ) <= set(range(7)):
        errors["weekend_days"] = ["Distinct days from 0 (Monday) to 6 (Sunday)."]
    if not Decimal(0) < policy.standard_day_hours <= Decimal(24):
        errors["standard_day_hours"] = ["More than 0 and at most 24."]
    if not Decimal(1) <= policy.overtime_multiplier <= Decimal(10):
        errors["overtime_multiplier"] = ["From 1 to 10."]
    if not re.fullmatch(r"[A-Z]{3}", policy.currency):
        errors["currency"] = ["An ISO 4217 code, three capital letters."]
    try:
        calendar.public_holidays(
            country=policy.holiday_country,
            subdivision=policy.holiday_subdivision or None,
            year=timezone.now().year,
        )
    except calendar.UnknownSubdivisionError:
        errors["holiday_subdivision"] = ["No public holiday calendar for this subdivision."]
    except calendar.UnknownCountryError:
        errors["holiday_country"] = ["No public holiday calendar for this country."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def hr_policy_update(*, actor: Actor, data: Mapping[str, Any]) -> HrPolicy:
    require_perm(actor, "hr.change_hrpolicy")
    policy = HrPolicy.objects.select_for_update().get(pk=hr_policy_get().pk)
    for name in POLICY_FIELDS:
        if name in data:
            value = data[name]
            if name in ("holiday_country", "currency"):
                value = value.strip().upper()
            elif name == "holiday_subdivision":
                value = value.strip()
            elif name == "weekend_days":
                value = sorted(value)
            setattr(policy, name, value)
    hr_policy_validate(policy)
    audit_fields(policy, actor, created=False)
    policy.save()
    return policy


# --- shift templates -----------------------------------------------------------------------

SHIFT_FIELDS = ("name", "start_time", "end_time", "break_minutes", "grace_minutes")


def _nominal_minutes(start: time, end: time) -> int:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return minutes if minutes > 0 else minutes + 24 * 60


def shift_template_apply(shift: ShiftTemplate, data: Mapping[str, Any]) -> None:
    for name in SHIFT_FIELDS:
        if name in data:
            setattr(shift, name, data[name])
    errors: dict[str, list[str]] = {}
    if not (shift.name or "").strip():
        errors["name"] = ["This field may not be blank."]
    for name in ("start_time", "end_time"):
        value = getattr(shift, name)
        if not isinstance(value, time) or value.tzinfo is not None:
            errors[name] = ["A local wall-clock time without an offset, e.g. 09:00."]
    for name in ("break_minutes", "grace_minutes"):
        value = getattr(shift, name)
        if not isinstance(value, int) or not 0 <= value < 24 * 60:
            errors[name] = ["From 0 to 1439 minutes."]
    if not errors and shift.break_minutes >= _nominal_minutes(shift.start_time, shift.end_time):
        errors["break_minutes"] = ["The break must be shorter than the shift."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def shift_template_create(
    *,
    actor: Actor,
    name: str,
    start_time: time,
    end_time: time,
    break_minutes: int = 0,
    grace_minutes: int = 0,
) -> ShiftTemplate:
    """An ``end_time`` not after ``start_time`` makes a shift that crosses midnight."""
    require_perm(actor, "hr.add_shifttemplate")
    shift = ShiftTemplate()
    shift_template_apply(
        shift,
        {
            "name": name,
            "start_time": start_time,
            "end_time": end_time,
            "break_minutes": break_minutes,
            "grace_minutes": grace_minutes,
        },
    )
    audit_fields(shift, actor, created=True)
    _unique_save(shift, error=NameTakenError, name=shift.name)
    return shift


@transaction.atomic
def shift_template_update(
    *, actor: Actor, shift: ShiftTemplate, data: Mapping[str, Any]
) -> ShiftTemplate:
    """Records already made keep the scheduled times they were stamped with; only their
    minutes are recomputed (from the new times) if a manager corrects them later."""
    require_perm(actor, "hr.change_shifttemplate")
    shift_template_apply(shift, data)
    audit_fields(shift, actor, created=False)
    _unique_save(shift, error=NameTakenError, name=shift.name)
    return shift


@transaction.atomic
def shift_template_delete(*, actor: Actor, shift: ShiftTemplate) -> None:
    """Refused (ShiftInUseError) while an assignment or an attendance record uses it."""
    require_perm(actor, "hr.delete_shifttemplate")
    in_use = (
        ShiftAssignment.objects.filter(shift=shift).exists()
        or AttendanceRecord.objects.filter(shift=shift).exists()
    )
    if in_use:
        raise ShiftInUseError(shift_id=shift.pk)
    shift.delete()


# --- assignments ---------------------------------------------------------------------------


def _assignment_apply(assignment: ShiftAssignment, data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    references_apply(
        assignment,
        data,
        {
            "employee": (Employee.objects.all(), "Unknown employee."),
            "shift": (ShiftTemplate.objects.all(), "Unknown shift."),
        },
        errors,
    )
    if "weekdays" in data:
        weekdays = list(data["weekdays"] or [])
        if not weekdays or not all(
            isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6 for day in weekdays
        ):
            errors["weekdays"] = ["At least one day, each from 0 (Monday) to 6 (Sunday)."]
        else:
            assignment.weekdays = sorted(set(weekdays))
    for name in ("valid_from", "valid_to"):
        if name in data:
            setattr(assignment, name, data[name])
    valid_from, valid_to = assignment.valid_from, assignment.valid_to
    if valid_from is not None and not (
        selectors.EARLIEST_DATE <= valid_from <= selectors.LATEST_DATE
    ):
        errors["valid_from"] = ["Between 1900 and 2199."]
    if valid_to is not None and not (selectors.EARLIEST_DATE <= valid_to <= selectors.LATEST_DATE):
        errors["valid_to"] = ["Between 1900 and 2199."]
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = ["Cannot be before valid_from."]
    if errors:
        raise ValidationError(errors)


def _assignment_save(assignment: ShiftAssignment, *, actor: Actor, created: bool) -> None:
    audit_fields(assignment, actor, created=created)
    _unique_save(
        assignment,
        error=AssignmentExistsError,
        employee_id=assignment.employee_id,
        valid_from=assignment.valid_from,
    )


@transaction.atomic
def shift_assignment_create(
    *,
    actor: Actor,
    employee: object,
    shift: object,
    weekdays: list[int],
    valid_from: date,
    valid_to: date | None = None,
) -> ShiftAssignment:
    """``employee`` and ``shift`` are ids. Raises AssignmentExistsError when the employee
    already has an assignment starting on ``valid_from``."""
    require_perm(actor, "hr.add_shiftassignment")
    assignment = ShiftAssignment()
    _assignment_apply(
        assignment,
        {
            "employee": employee,
            "shift": shift,
            "weekdays": weekdays,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
    )
    _assignment_save(assignment, actor=actor, created=True)
    return assignment


@transaction.atomic
def shift_assignment_update(
    *, actor: Actor, assignment: ShiftAssignment, data: Mapping[str, Any]
) -> ShiftAssignment:
    require_perm(actor, "hr.change_shiftassignment")
    _assignment_apply(assignment, data)
    _assignment_save(assignment, actor=actor, created=False)
    return assignment


@transaction.atomic
def shift_assignment_delete(*, actor: Actor, assignment: ShiftAssignment) -> None:
    """Punches already made keep the shift they were stamped with."""
    require_perm(actor, "hr.delete_shiftassignment")
    assignment.delete()


# --- punches -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fix:
    """A position as the device reported it, rounded to what the table stores."""

    latitude: Decimal
    longitude: Decimal
    accuracy_m: Decimal


@dataclass(frozen=True, slots=True)
class GeofenceResult:
    inside: bool
    # The location the punch was made at (inside its fence), else None.
    location: WorkLocation | None
    # "inside", "exempt", "no_locations", "accuracy" or "distance".
    reason: str
    nearest: WorkLocation | None = None
    distance_m: float | None = None


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def punch_fix_validate(*, latitude: object, longitude: object, accuracy_m: object) -> Fix:
    """The coordinates as Decimals; ValidationError naming every missing or absurd one."""
    errors: dict[str, list[str]] = {}
    values = {}
    bounds = {
        "latitude": (Decimal(-90), Decimal(90), "From -90 to 90 degrees."),
        "longitude": (Decimal(-180), Decimal(180), "From -180 to 180 degrees."),
        "accuracy_m": (Decimal(0), MAX_ACCURACY_M, f"From 0 to {MAX_ACCURACY_M} metres."),
    }
    raw = {"latitude": latitude, "longitude": longitude, "accuracy_m": accuracy_m}
    for name, (low, high, message) in bounds.items():
        number = _decimal(raw[name])
        if raw[name] is None:
            errors[name] = ["This field is required."]
        elif number is None or not low <= number <= high:
            errors[name] = [message]
        else:
            values[name] = number
    if errors:
        raise ValidationError(errors)
    return Fix(
        latitude=values["latitude"].quantize(Decimal("0.000001"), ROUND_HALF_EVEN),
        longitude=values["longitude"].quantize(Decimal("0.000001"), ROUND_HALF_EVEN),
        accuracy_m=values["accuracy_m"].quantize(Decimal("0.1"), ROUND_HALF_EVEN),
    )


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres; good to ~0.5 % for geofence sizes."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def geofence_check(*, employee: Employee, fix: Fix, policy: HrPolicy) -> GeofenceResult:
    """Whether ``fix`` lies inside one of the employee's allowed locations.

    A fix less precise than ``policy.max_accuracy_m`` counts as outside every fence: it
    could be anywhere in its circle. Geofence-exempt employees are always inside.
    """
    if employee.is_geofence_exempt:
        return GeofenceResult(inside=True, location=None, reason="exempt")
    locations = list(employee.allowed_locations.all())
    if not locations:
        return GeofenceResult(inside=False, location=None, reason="no_locations")
    measured = sorted(
        (
            distance_m(
                float(fix.latitude),
                float(fix.longitude),
                float(location.latitude),
                float(location.longitude),
            ),
            location.name,
            location,
        )
        for location in locations
    )
    distance, _, nearest = measured[0]
    if fix.accuracy_m > policy.max_accuracy_m:
        return GeofenceResult(
            inside=False, location=None, reason="accuracy", nearest=nearest, distance_m=distance
        )
    for distance_to, _, location in measured:
        if distance_to <= location.radius_m:
            return GeofenceResult(
                inside=True, location=location, reason="inside", distance_m=distance_to
            )
    return GeofenceResult(
        inside=False, location=None, reason="distance", nearest=nearest, distance_m=distance
    )


def _outside_error(fence: GeofenceResult, fix: Fix, policy: HrPolicy) -> OutsideGeofenceError:
    if fence.reason == "accuracy":
        message = (
            f"Your location is too imprecise (within {fix.accuracy_m} m; at most "
            f"{policy.max_accuracy_m} m is accepted). Try again outdoors or with GPS on."
        )
    elif fence.reason == "no_locations":
        message = "You have no work location to check in at; ask HR to assign one."
    else:
        message = (
            f"You are {round(fence.distance_m or 0)} m from {fence.nearest}, outside every "
            "work location you may check in at."
        )
    details: dict[str, Any] = {"reason": fence.reason, "accuracy_m": str(fix.accuracy_m)}
    if fence.nearest is not None:
        details["nearest_location"] = fence.nearest.name
        details["distance_m"] = round(fence.distance_m or 0)
    if fence.reason == "accuracy":
        details["max_accuracy_m"] = policy.max_accuracy_m
    return OutsideGeofenceError(message, **details)


def _own_employee(actor: Actor) -> Employee:
    employee = (
        Employee.objects.filter(user=actor.user).prefetch_related("allowed_locations").first()
    )
    if employee is None:
        raise NoEmployeeRecordError()
    return employee


def _require_employed(employee: Employee, *, now: datetime) -> None:
    today = timecalc.working_day_of(instant_utc=now, time_zone=employee.work_time_zone)
    if employee.employment_start > today or (
        employee.employment_end is not None and employee.employment_end < today
    ):
        raise EmployeeInactiveError(employee_id=employee.pk, on=today)


def _apply_minutes(record: AttendanceRecord, *, time_zone: str) -> None:
    """Stores the minute figures of a record that has a check-out."""
    check_in, check_out = record.check_in_at, record.check_out_at
    assert check_out is not None  # noqa: S101 - callers only pass closed records
    if record.shift is None:
        # Not rostered: the time there is all that can be said.
        record.worked_minutes = max(0, (check_out - check_in) // _MINUTE)
        record.late_minutes = record.early_leave_minutes = record.overtime_minutes = 0
        return
    summary = timecalc.attendance_summary(
        shift=timecalc.ShiftSpec(
            start=record.shift.start_time,
            end=record.shift.end_time,
            break_minutes=record.shift.break_minutes,
            grace_minutes=record.shift.grace_minutes,
        ),
        work_date=record.work_date,
        time_zone=time_zone,
        check_in_utc=check_in,
        check_out_utc=check_out,
    )
    record.worked_minutes = summary.worked_minutes
    record.late_minutes = summary.late_minutes
    record.early_leave_minutes = summary.early_leave_minutes
    record.overtime_minutes = summary.overtime_minutes


def _is_one_open_violation(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == _ONE_OPEN_CONSTRAINT


@transaction.atomic
def attendance_check_in(
    *,
    actor: Actor,
    latitude: object,
    longitude: object,
    accuracy_m: object,
    now: datetime | None = None,
) -> AttendanceRecord:
    """Opens a record for the actor's own employee at the server's time.

    ``now`` exists for tests; callers leave it out. The punch belongs to a work date and
    rostered shift chosen by ``selectors.shift_for_punch``. Outside every allowed fence
    the policy decides: OutsideGeofenceError (nothing stored) or a record with approval
    ``pending``. Raises NoEmployeeRecordError, EmployeeInactiveError, ValidationError for
    bad coordinates and AlreadyCheckedInError while a record is open (also when two
    check-ins race: the partial unique constraint lets one through).
    """
    employee = _own_employee(actor)
    fix = punch_fix_validate(latitude=latitude, longitude=longitude, accuracy_m=accuracy_m)
    now = now or timezone.now()
    _require_employed(employee, now=now)
    policy = hr_policy_get()
    fence = geofence_check(employee=employee, fix=fix, policy=policy)
    approval = AttendanceRecord.Approval.NOT_REQUIRED
    if not fence.inside:
        if policy.outside_geofence == HrPolicy.OutsideGeofence.REFUSE:
            raise _outside_error(fence, fix, policy)
        approval = PENDING
    open_record = selectors.attendance_open_for(employee=employee)
    if open_record is not None:
        raise AlreadyCheckedInError(record_id=open_record.pk)

    scheduled = selectors.shift_for_punch(employee=employee, instant_utc=now)
    record = AttendanceRecord(
        employee=employee,
        work_date=scheduled.work_date,
        shift=scheduled.shift,
        scheduled_start_at=scheduled.start_at,
        scheduled_end_at=scheduled.end_at,
        approval=approval,
        check_in_at=now,
        punched_in_at=now,
        check_in_latitude=fix.latitude,
        check_in_longitude=fix.longitude,
        check_in_accuracy_m=fix.accuracy_m,
        check_in_location=fence.location,
    )
    audit_fields(record, actor, created=True)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as error:
        if _is_one_open_violation(error):
            raise AlreadyCheckedInError() from error
        raise
    return record


@transaction.atomic
def attendance_check_out(
    *,
    actor: Actor,
    latitude: object,
    longitude: object,
    accuracy_m: object,
    now: datetime | None = None,
) -> AttendanceRecord:
    """Closes the actor's open record at the server's time and stores its minutes.

    The geofence applies as at check-in: refused (the record stays open) or accepted and
    the record's approval becomes ``pending`` (a rejected record stays rejected). Raises
    NoOpenShiftError without an open record.
    """
    employee = _own_employee(actor)
    fix = punch_fix_validate(latitude=latitude, longitude=longitude, accuracy_m=accuracy_m)
    now = now or timezone.now()
    record = (
        AttendanceRecord.objects.select_for_update(of=("self",))
        .select_related("shift")
        .filter(employee=employee, state=OPEN)
        .first()
    )
    if record is None:
        raise NoOpenShiftError()
    policy = hr_policy_get()
    fence = geofence_check(employee=employee, fix=fix, policy=policy)
    if not fence.inside:
        if policy.outside_geofence == HrPolicy.OutsideGeofence.REFUSE:
            raise _outside_error(fence, fix, policy)
        if record.approval != AttendanceRecord.Approval.REJECTED:
            record.approval = PENDING

    # Another web server's clock may lag the one that took the check-in by a few
    # milliseconds; the table refuses a check-out before the check-in.
    check_out = max(now, record.check_in_at)
    record.check_out_at = check_out
    record.punched_out_at = check_out
    record.check_out_latitude = fix.latitude
    record.check_out_longitude = fix.longitude
    record.check_out_accuracy_m = fix.accuracy_m
    record.check_out_location = fence.location
    record.state = CLOSED
    _apply_minutes(record, time_zone=employee.work_time_zone)
    audit_fields(record, actor, created=False)
    record.save()
    return record


# --- approvals and corrections -------------------------------------------------------------


def _require_manager_of(actor: Actor, employee: Employee) -> None:
    if not selectors.actor_manages(actor=actor, employee=employee):
        raise NotManagerOfEmployeeError(employee_id=employee.pk)


def _locked(record: AttendanceRecord) -> AttendanceRecord:
    return (
        AttendanceRecord.objects.select_for_update(of=("self",))
        .select_related("employee", "shift")
        .get(pk=record.pk)
    )


def _attendance_decide(
    *, actor: Actor, record: AttendanceRecord, approval: str
) -> AttendanceRecord:
    require_perm(actor, "hr.approve_attendance")
    _require_manager_of(actor, record.employee)
    record = _locked(record)
    if record.approval != PENDING:
        raise AttendanceNotPendingError(record_id=record.pk, approval=record.approval)
    record.approval = approval
    audit_fields(record, actor, created=False)
    record.save(update_fields=["approval", "updated_by", "updated_at"])
    return record


@transaction.atomic
def attendance_approve(*, actor: Actor, record: AttendanceRecord) -> AttendanceRecord:
    """Accepts a punch made outside the fences. Only a manager of the employee (at any
    depth) or an HR admin, with ``hr.approve_attendance``; never one's own punch."""
    return _attendance_decide(
        actor=actor, record=record, approval=AttendanceRecord.Approval.APPROVED
    )


@transaction.atomic
def attendance_reject(*, actor: Actor, record: AttendanceRecord) -> AttendanceRecord:
    """Refuses a punch made outside the fences. The record stays (nothing is deleted);
    payroll leaves rejected records out."""
    return _attendance_decide(
        actor=actor, record=record, approval=AttendanceRecord.Approval.REJECTED
    )


def attendance_correction_validate(
    record: AttendanceRecord,
    *,
    check_in_at: datetime,
    check_out_at: datetime | None,
    reason: str,
    now: datetime,
) -> None:
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why the punches are corrected."]
    elif len(reason) > 500:
        errors["reason"] = ["At most 500 characters."]
    for name, value in (("check_in_at", check_in_at), ("check_out_at", check_out_at)):
        if value is None:
            continue
        if value.tzinfo is None or value.utcoffset() is None:
            errors[name] = ["Include a UTC offset, e.g. 2026-03-08T09:00:00-04:00."]
        elif value > now:
            errors[name] = ["Cannot be in the future."]
    if check_out_at is None and record.state != OPEN:
        errors["check_out_at"] = ["Required: this record is closed."]
    if errors:
        raise ValidationError(errors)
    local_day = timecalc.working_day_of(
        instant_utc=check_in_at, time_zone=record.employee.work_time_zone
    )
    if abs((local_day - record.work_date).days) > 1:
        errors["check_in_at"] = [
            f"Must be within a day of the record's work date {record.work_date.isoformat()}."
        ]
    if check_out_at is not None and check_out_at < check_in_at:
        errors["check_out_at"] = ["Cannot be before check_in_at."]
    elif check_out_at is not None and check_out_at - check_in_at > MAX_CORRECTED_SPAN:
        errors["check_out_at"] = ["A shift of more than 36 hours is not plausible."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def attendance_correct(
    *,
    actor: Actor,
    record: AttendanceRecord,
    check_in_at: datetime,
    check_out_at: datetime | None,
    reason: str,
    now: datetime | None = None,
) -> AttendanceCorrection:
    """A manager's correction of the figures in force; the punches as made
    (``punched_in_at`` / ``punched_out_at``) never change.

    Writes an AttendanceCorrection with the previous figures and ``corrected_by``,
    recomputes the minutes and clears ``needs_review``. ``check_out_at`` may be left out
    only while the record is open; giving one closes it. An auto-closed record stays
    ``auto_closed`` (how it closed), reviewed. Needs ``hr.approve_attendance_correction``
    and a manager of the employee (at any depth) or an HR admin; never one's own record.
    """
    require_perm(actor, "hr.approve_attendance_correction")
    _require_manager_of(actor, record.employee)
    record = _locked(record)
    now = now or timezone.now()
    attendance_correction_validate(
        record, check_in_at=check_in_at, check_out_at=check_out_at, reason=reason, now=now
    )
    correction = AttendanceCorrection(
        record=record,
        previous_check_in_at=record.check_in_at,
        previous_check_out_at=record.check_out_at,
        check_in_at=check_in_at,
        check_out_at=check_out_at,
        reason=reason.strip(),
        corrected_by=actor.user,
    )
    audit_fields(correction, actor, created=True)
    correction.save()

    record.check_in_at = check_in_at
    record.check_out_at = check_out_at
    if check_out_at is not None:
        if record.state == OPEN:
            record.state = CLOSED
        _apply_minutes(record, time_zone=record.employee.work_time_zone)
    record.needs_review = False
    audit_fields(record, actor, created=False)
    record.save()
    return correction


# --- auto-close ----------------------------------------------------------------------------


def attendance_auto_close_at(*, record: AttendanceRecord, time_zone: str) -> datetime:
    """When an open record counts as abandoned: the first local midnight after its
    scheduled end, or after the check-in when it is not rostered (or checked in after
    the scheduled end). A night shift 22:00-06:00 is therefore not cut at 00:00 while
    the employee is still at work; its record closes at the midnight after 06:00."""
    anchor = record.check_in_at
    if record.scheduled_end_at is not None and record.scheduled_end_at > anchor:
        anchor = record.scheduled_end_at
    return timecalc.midnight_after(instant_utc=anchor, time_zone=time_zone)


def attendance_auto_close(*, now: datetime | None = None) -> int:
    """Closes every open record whose closing midnight (attendance_auto_close_at) has
    passed: ``check_out_at`` is that midnight, ``punched_out_at`` stays empty (nobody
    punched), the state ``auto_closed`` and ``needs_review`` set, the minutes computed.

    Idempotent: only open records are touched, each in its own transaction with a lock
    that skips a record a check-out is closing at the same moment. Nothing is deleted.
    Returns how many records it closed.
    """
    now = now or timezone.now()
    candidates = (
        AttendanceRecord.objects.filter(state=OPEN, check_in_at__lte=now)
        .filter(Q(scheduled_end_at__isnull=True) | Q(scheduled_end_at__lte=now))
        .select_related("employee")
        .only("pk", "check_in_at", "scheduled_end_at", "employee__work_time_zone")
    )
    closed = 0
    for candidate in list(candidates):
        time_zone = candidate.employee.work_time_zone
        closing = attendance_auto_close_at(record=candidate, time_zone=time_zone)
        if closing > now:
            continue
        with transaction.atomic():
            record = (
                AttendanceRecord.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("shift")
                .filter(pk=candidate.pk, state=OPEN)
                .first()
            )
            if record is None:
                continue
            record.check_out_at = closing
            record.state = AUTO_CLOSED
            record.needs_review = True
            _apply_minutes(record, time_zone=time_zone)
            record.save()
        closed += 1
    return closed
