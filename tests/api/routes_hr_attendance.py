"""Cross-tenant specs for the shifts and attendance routes of /api/v1/hr/ (merged into
tests.api.routes.ROUTES). Rows are made with the ORM in the current (B's) schema; the
marker is a name that appears in the object's representation."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from tests.api.routes import Spec

PUNCHED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _marker(kind: str) -> str:
    return f"xt-{kind}-{uuid.uuid4().hex[:8]}"


def _make_shift() -> tuple[dict, str]:
    from apps.hr.models import ShiftTemplate

    marker = _marker("shift")
    shift = ShiftTemplate.objects.create(name=marker, start_time=time(9), end_time=time(17))
    return {"shift_id": shift.pk}, marker


def _shift_intact(marker: str) -> bool:
    from apps.hr.models import ShiftTemplate

    return ShiftTemplate.objects.filter(name=marker, start_time=time(9), end_time=time(17)).exists()


def _employee(marker: str):
    from apps.hr.models import Employee

    return Employee.objects.create(
        employee_number=marker[-12:],
        first_name=marker,
        last_name="Crosstenant",
        employment_start=date(2024, 1, 1),
    )


def _make_assignment() -> tuple[dict, str]:
    from apps.hr.models import ShiftAssignment, ShiftTemplate

    marker = _marker("assignment")
    shift = ShiftTemplate.objects.create(name=marker, start_time=time(9), end_time=time(17))
    # Covers every day around now, so the roster of B shows it by default.
    assignment = ShiftAssignment.objects.create(
        employee=_employee(marker),
        shift=shift,
        weekdays=list(range(7)),
        valid_from=date.today() - timedelta(days=30),  # noqa: DTZ011 - any nearby date
    )
    return {"assignment_id": assignment.pk}, marker


def _assignment_intact(marker: str) -> bool:
    from apps.hr.models import ShiftAssignment

    return ShiftAssignment.objects.filter(
        employee__first_name=marker, shift__name=marker, weekdays=list(range(7))
    ).exists()


def _make_record() -> tuple[dict, str]:
    from apps.hr.models import AttendanceRecord

    marker = _marker("attendance")
    record = AttendanceRecord.objects.create(
        employee=_employee(marker),
        work_date=PUNCHED_AT.date(),
        approval=AttendanceRecord.Approval.PENDING,
        check_in_at=PUNCHED_AT,
        punched_in_at=PUNCHED_AT,
    )
    return {"record_id": record.pk}, marker


def _record_intact(marker: str) -> bool:
    from apps.hr.models import AttendanceRecord

    return AttendanceRecord.objects.filter(
        employee__first_name=marker,
        state="open",
        approval="pending",
        check_in_at=PUNCHED_AT,
        corrections__isnull=True,
    ).exists()


CORRECTION = {
    "check_in_at": "2026-03-02T08:00:00Z",
    "check_out_at": "2026-03-02T16:00:00Z",
    "reason": "taken over",
}

ROUTES: dict[str, Spec] = {
    # The policy is one row per schema, with no id: the token test covers it.
    "api/v1/hr/policy/": Spec(make=None),
    "api/v1/hr/shifts/": Spec(make=_make_shift, intact=_shift_intact),
    "api/v1/hr/shifts/<uuid:shift_id>/": Spec(
        make=_make_shift, write_body={"name": "taken over"}, intact=_shift_intact
    ),
    "api/v1/hr/shift-assignments/": Spec(make=_make_assignment, intact=_assignment_intact),
    "api/v1/hr/shift-assignments/<uuid:assignment_id>/": Spec(
        make=_make_assignment, write_body={"weekdays": [0]}, intact=_assignment_intact
    ),
    "api/v1/hr/roster/": Spec(make=_make_assignment, intact=_assignment_intact),
    "api/v1/hr/attendance/": Spec(make=_make_record, intact=_record_intact),
    # The caller's own punches: no id to point at another tenant's.
    "api/v1/hr/attendance/check-in/": Spec(make=None),
    "api/v1/hr/attendance/check-out/": Spec(make=None),
    "api/v1/hr/attendance/<uuid:record_id>/": Spec(make=_make_record, intact=_record_intact),
    "api/v1/hr/attendance/<uuid:record_id>/approve/": Spec(
        make=_make_record, intact=_record_intact
    ),
    "api/v1/hr/attendance/<uuid:record_id>/reject/": Spec(make=_make_record, intact=_record_intact),
    "api/v1/hr/attendance/<uuid:record_id>/corrections/": Spec(
        make=_make_record, write_body=CORRECTION, intact=_record_intact
    ),
}
