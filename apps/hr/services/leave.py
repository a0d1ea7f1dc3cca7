"""Writes for HR leave: types and accrual policies, tenant holidays, requests and their
state machine, the balance ledger (accruals, usage, reversals, adjustments).

Request states: draft -> pending (submit) -> approved | rejected (a manager above the
employee with ``hr.approve_leave``, or an HR admin; never the employee); draft and
pending -> cancelled (the employee or an HR admin); approved -> cancelled while the leave
has not ended, which writes a reversal entry that gives the days back.

Invalid input raises Django's ValidationError with field names (400). Broken rules raise
apps.hr.errors: LeaveOverlapsError and InsufficientBalanceError (409),
LeaveInvalidTransitionError (409), LeaveNoWorkingDaysError (400).

Overlap is refused twice: a pre-check for a clear error, and the exclusion constraint
``hr_leave_no_overlap`` for requests that race past it; the constraint's violation is
caught in a savepoint and becomes the same LeaveOverlapsError.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.selectors import require_perm
from apps.core.errors import PermissionDeniedError
from apps.core.tenancy import current_schema, in_tenant
from apps.core.types import Actor
from apps.hr import calendar
from apps.hr.errors import (
    HolidayCalendarUnknownError,
    HolidayDateTakenError,
    InsufficientBalanceError,
    LeaveInvalidTransitionError,
    LeaveNoWorkingDaysError,
    LeaveOverlapsError,
    LeaveSelfApprovalError,
    LeaveTypeInUseError,
    NameTakenError,
    NoEmployeeRecordError,
)
from apps.hr.models import (
    AccrualPolicy,
    Employee,
    LeaveLedgerEntry,
    LeaveRequest,
    LeaveType,
    TenantHoliday,
)
from apps.hr.selectors import leave as selectors
from apps.hr.selectors.people import ALL_EMPLOYEES_PERMISSION, employee_for_user
from apps.hr.selectors.policy import hr_policy_get
from apps.hr.services.common import audit_fields

logger = logging.getLogger("tenantry.hr")

OVERLAP_CONSTRAINT = "hr_leave_no_overlap"
EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"
NOTIFY_CHANNELS = ("in_app", "email")
# Ledger amounts are bounded well inside the column (6 digits, 2 decimals).
MAX_LEDGER_DAYS = Decimal(1000)

Status = LeaveRequest.Status
Kind = LeaveLedgerEntry.Kind


def _is_overlap_violation(error: DatabaseError) -> bool:
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    if getattr(diag, "constraint_name", None) == OVERLAP_CONSTRAINT:
        return True
    # Two transactions writing overlapping rows at the same moment may each wait for the
    # other's row in the exclusion index; PostgreSQL then aborts one of them as a
    # deadlock. In this statement the only thing waited on is that index, so the victim
    # lost the same race the constraint decides.
    return getattr(cause, "sqlstate", None) in (EXCLUSION_VIOLATION, DEADLOCK_DETECTED)


def _save_request(leave: LeaveRequest) -> None:
    """Save in a savepoint; the exclusion constraint's refusal becomes LeaveOverlapsError
    and leaves the surrounding transaction usable (and unchanged by this save)."""
    try:
        with transaction.atomic():
            leave.save()
    except (IntegrityError, OperationalError) as error:
        if _is_overlap_violation(error):
            raise LeaveOverlapsError(
                employee_id=str(leave.employee_id),
                starts_on=leave.starts_on.isoformat(),
                ends_on=leave.ends_on.isoformat(),
            ) from error
        raise


def _balance_lock(*, employee_id: object, leave_type_id: object) -> None:
    """Serialise balance checks of one employee and leave type until the transaction ends,
    so two approvals (or an approval and an adjustment) cannot both spend the same days.
    Advisory locks are database-wide, hence the schema in the key."""
    digest = hashlib.blake2b(
        f"hr-leave-balance:{current_schema()}:{employee_id}:{leave_type_id}".encode(),
        digest_size=8,
    ).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


def _is_hr_admin(actor: Actor) -> bool:
    return actor.has_perm(ALL_EMPLOYEES_PERMISSION)


# --- leave types and accrual policies -------------------------------------------------------

LEAVE_TYPE_FIELDS = (
    "code",
    "name",
    "is_paid",
    "tracks_balance",
    "allows_negative_balance",
    "allows_half_days",
    "is_active",
)


def _leave_type_save(leave_type: LeaveType, actor: Actor, *, created: bool) -> LeaveType:
    if LeaveType.objects.filter(code=leave_type.code).exclude(pk=leave_type.pk).exists():
        raise NameTakenError(code=leave_type.code)
    audit_fields(leave_type, actor, created=created)
    try:
        with transaction.atomic():
            leave_type.save()
    except IntegrityError as error:
        raise NameTakenError(code=leave_type.code) from error
    return leave_type


@transaction.atomic
def leave_type_create(*, actor: Actor, code: str, name: str, **optional: Any) -> LeaveType:
    """``optional``: is_paid, tracks_balance, allows_negative_balance, allows_half_days,
    is_active. A code already used raises NameTakenError (409)."""
    require_perm(actor, "hr.add_leavetype")
    leave_type = LeaveType()
    for field, value in {"code": code, "name": name, **optional}.items():
        if field in LEAVE_TYPE_FIELDS:
            setattr(leave_type, field, value)
    return _leave_type_save(leave_type, actor, created=True)


@transaction.atomic
def leave_type_update(*, actor: Actor, leave_type: LeaveType, data: Mapping[str, Any]) -> LeaveType:
    """Changes apply to requests submitted from now on; days already counted stay."""
    require_perm(actor, "hr.change_leavetype")
    for field in LEAVE_TYPE_FIELDS:
        if field in data:
            setattr(leave_type, field, data[field])
    return _leave_type_save(leave_type, actor, created=False)


@transaction.atomic
def leave_type_delete(*, actor: Actor, leave_type: LeaveType) -> None:
    """Only an unused type can go (its accrual policy goes with it); a used one raises
    LeaveTypeInUseError and can be deactivated instead."""
    require_perm(actor, "hr.delete_leavetype")
    if (
        LeaveRequest.objects.filter(leave_type=leave_type).exists()
        or LeaveLedgerEntry.objects.filter(leave_type=leave_type).exists()
    ):
        raise LeaveTypeInUseError(leave_type_id=str(leave_type.pk))
    leave_type.delete()


def _accrual_validate(
    *, frequency: str, days_per_period: Decimal, cap_days: Decimal | None
) -> None:
    errors: dict[str, list[str]] = {}
    if frequency not in AccrualPolicy.Frequency.values:
        errors["frequency"] = [f"One of {', '.join(AccrualPolicy.Frequency.values)}."]
    if not Decimal(0) < days_per_period <= Decimal(366):
        errors["days_per_period"] = ["More than 0 and at most 366."]
    if cap_days is not None and not Decimal(0) < cap_days <= Decimal(3660):
        errors["cap_days"] = ["More than 0 and at most 3660, or null for no cap."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def accrual_policy_set(
    *,
    actor: Actor,
    leave_type: LeaveType,
    frequency: str,
    days_per_period: Decimal,
    cap_days: Decimal | None = None,
) -> AccrualPolicy:
    """Create or replace the type's accrual policy. Accruals already posted stay."""
    require_perm(actor, "hr.change_leavetype")
    _accrual_validate(frequency=frequency, days_per_period=days_per_period, cap_days=cap_days)
    policy = AccrualPolicy.objects.select_for_update().filter(leave_type=leave_type).first()
    created = policy is None
    if policy is None:
        policy = AccrualPolicy(leave_type=leave_type)
    policy.frequency = frequency
    policy.days_per_period = days_per_period
    policy.cap_days = cap_days
    audit_fields(policy, actor, created=created)
    policy.save()
    return policy


@transaction.atomic
def accrual_policy_delete(*, actor: Actor, policy: AccrualPolicy) -> None:
    require_perm(actor, "hr.change_leavetype")
    policy.delete()


# --- tenant holidays -----------------------------------------------------------------------


def _holiday_save(holiday: TenantHoliday, actor: Actor, *, created: bool) -> TenantHoliday:
    if TenantHoliday.objects.filter(date=holiday.date).exclude(pk=holiday.pk).exists():
        raise HolidayDateTakenError(date=holiday.date.isoformat())
    audit_fields(holiday, actor, created=created)
    try:
        with transaction.atomic():
            holiday.save()
    except IntegrityError as error:
        raise HolidayDateTakenError(date=holiday.date.isoformat()) from error
    return holiday


@transaction.atomic
def tenant_holiday_create(*, actor: Actor, date: date, name: str) -> TenantHoliday:
    """Counts for requests submitted from now on; days already counted stay."""
    require_perm(actor, "hr.add_tenantholiday")
    return _holiday_save(TenantHoliday(date=date, name=name), actor, created=True)


@transaction.atomic
def tenant_holiday_update(
    *, actor: Actor, holiday: TenantHoliday, data: Mapping[str, Any]
) -> TenantHoliday:
    require_perm(actor, "hr.change_tenantholiday")
    for field in ("date", "name"):
        if field in data:
            setattr(holiday, field, data[field])
    return _holiday_save(holiday, actor, created=False)


@transaction.atomic
def tenant_holiday_delete(*, actor: Actor, holiday: TenantHoliday) -> None:
    require_perm(actor, "hr.delete_tenantholiday")
    holiday.delete()


# --- day counting --------------------------------------------------------------------------


def leave_days_count(
    *, starts_on: date, ends_on: date, start_half: bool = False, end_half: bool = False
) -> Decimal:
    """Working days of the range under the tenant's policy (weekend, public holidays of
    its country and subdivision) and its own holidays; half days count 0.5.

    Raises ValidationError (ends_on) for a reversed or absurdly long range and
    HolidayCalendarUnknownError when the policy names a calendar the library lacks.
    """
    policy = hr_policy_get()
    try:
        return calendar.leave_days(
            start=starts_on,
            end=ends_on,
            start_half=start_half,
            end_half=end_half,
            country=policy.holiday_country,
            subdivision=policy.holiday_subdivision or None,
            extra_holidays=selectors.tenant_holiday_dates(start=starts_on, end=ends_on),
            weekend=policy.weekend_days,
        )
    except calendar.LeaveRangeError as error:
        raise ValidationError({"ends_on": [str(error)]}) from error
    except calendar.UnknownCountryError as error:
        raise HolidayCalendarUnknownError(
            country=policy.holiday_country, subdivision=policy.holiday_subdivision
        ) from error


# --- requests ------------------------------------------------------------------------------

REQUEST_FIELDS = ("leave_type", "starts_on", "ends_on", "start_half", "end_half", "reason")


def _leave_validate(leave: LeaveRequest) -> None:
    """Every bad field of a request in one ValidationError."""
    errors: dict[str, list[str]] = {}
    if leave.ends_on < leave.starts_on:
        errors["ends_on"] = ["The leave cannot end before it starts."]
    elif (leave.ends_on - leave.starts_on).days >= calendar.MAX_LEAVE_SPAN_DAYS:
        errors["ends_on"] = ["The leave is implausibly long (ten years or more)."]
    if not leave.leave_type.allows_half_days:
        for field in ("start_half", "end_half"):
            if getattr(leave, field):
                errors[field] = ["This leave type does not allow half days."]
    employee = leave.employee
    if leave.starts_on < employee.employment_start:
        errors.setdefault("starts_on", []).append("Before the employee's employment start.")
    if employee.employment_end is not None and leave.ends_on > employee.employment_end:
        errors.setdefault("ends_on", []).append("After the employee's employment end.")
    if errors:
        raise ValidationError(errors)


def _leave_type_resolve(leave_type_id: object) -> LeaveType:
    leave_type = LeaveType.objects.filter(pk=leave_type_id, is_active=True).first()
    if leave_type is None:
        raise ValidationError({"leave_type": ["Unknown or inactive leave type."]})
    return leave_type


def _employee_for_request(*, actor: Actor, employee_id: object) -> Employee:
    """The employee a request is filed for: the caller by default; anyone for an HR admin."""
    own = employee_for_user(user=actor.user)
    if employee_id is None or (own is not None and str(own.pk) == str(employee_id)):
        if own is None:
            raise NoEmployeeRecordError()
        return own
    if not _is_hr_admin(actor):
        # A manager may see a report's leave but not file it for them.
        visible = selectors.leave_visible_employee_ids(actor=actor) or set()
        if str(employee_id) in {str(pk) for pk in visible}:
            raise PermissionDeniedError(permission=ALL_EMPLOYEES_PERMISSION)
        raise ValidationError({"employee": ["Unknown employee."]})
    employee = Employee.objects.filter(pk=employee_id).first()
    if employee is None:
        raise ValidationError({"employee": ["Unknown employee."]})
    return employee


def _require_owner_or_hr_admin(*, actor: Actor, leave: LeaveRequest) -> None:
    if _is_hr_admin(actor):
        return
    own = employee_for_user(user=actor.user)
    if own is None or own.pk != leave.employee_id:
        raise PermissionDeniedError()


def _locked(leave: LeaveRequest) -> LeaveRequest:
    """The row again, locked until the transaction ends: two transitions of one request
    run one after the other, the second seeing the first's status."""
    return (
        LeaveRequest.objects.select_for_update(of=("self",))
        .select_related("employee", "leave_type")
        .get(pk=leave.pk)
    )


def _refuse_transition(leave: LeaveRequest, to: str) -> LeaveInvalidTransitionError:
    return LeaveInvalidTransitionError(
        leave_request_id=str(leave.pk), status=leave.status, requested=to
    )


@transaction.atomic
def leave_request_create(
    *,
    actor: Actor,
    leave_type_id: object,
    starts_on: date,
    ends_on: date,
    start_half: bool = False,
    end_half: bool = False,
    reason: str = "",
    employee_id: object = None,
    submit: bool = False,
) -> LeaveRequest:
    """A draft request for the caller's own employee record (``employee_id`` None), or for
    anyone when the caller is an HR admin; ``submit=True`` submits it at once, and any
    refusal of the submission stores nothing at all."""
    employee = _employee_for_request(actor=actor, employee_id=employee_id)
    leave = LeaveRequest(
        employee=employee,
        leave_type=_leave_type_resolve(leave_type_id),
        starts_on=starts_on,
        ends_on=ends_on,
        start_half=start_half,
        end_half=end_half,
        reason=reason,
    )
    _leave_validate(leave)
    audit_fields(leave, actor, created=True)
    _save_request(leave)
    if submit:
        return leave_request_submit(actor=actor, leave=leave)
    return leave


@transaction.atomic
def leave_request_update(
    *, actor: Actor, leave: LeaveRequest, data: Mapping[str, Any]
) -> LeaveRequest:
    """Change a draft (fields of leave_request_create but the employee)."""
    _require_owner_or_hr_admin(actor=actor, leave=leave)
    leave = _locked(leave)
    if leave.status != Status.DRAFT:
        raise _refuse_transition(leave, "draft")
    for field in REQUEST_FIELDS:
        if field not in data:
            continue
        if field == "leave_type":
            leave.leave_type = _leave_type_resolve(data[field])
        else:
            setattr(leave, field, data[field])
    _leave_validate(leave)
    audit_fields(leave, actor, created=False)
    _save_request(leave)
    return leave


def _balance_check(*, leave: LeaveRequest, spend: Decimal, count_pending: bool) -> None:
    """Refuse when ``spend`` days exceed what the employee has of the type (minus other
    pending requests when ``count_pending``). Call with the balance lock held."""
    leave_type = leave.leave_type
    if not leave_type.tracks_balance or leave_type.allows_negative_balance:
        return
    balance = selectors.leave_balance_days(employee=leave.employee, leave_type=leave_type)
    available = balance
    if count_pending:
        available -= selectors.leave_pending_days(
            employee=leave.employee, leave_type=leave_type, exclude_id=leave.pk
        )
    if spend > available:
        raise InsufficientBalanceError(
            leave_type=leave_type.code, available=str(available), requested=str(spend)
        )


@transaction.atomic
def leave_request_submit(*, actor: Actor, leave: LeaveRequest) -> LeaveRequest:
    """draft -> pending: fixes ``days``, refuses an overlap (LeaveOverlapsError), no working
    day (LeaveNoWorkingDaysError) and a balance that does not cover the request net of
    the employee's other pending requests (InsufficientBalanceError). Notifies the
    approvers after commit."""
    _require_owner_or_hr_admin(actor=actor, leave=leave)
    leave = _locked(leave)
    if leave.status != Status.DRAFT:
        raise _refuse_transition(leave, Status.PENDING)
    _leave_validate(leave)
    days = leave_days_count(
        starts_on=leave.starts_on,
        ends_on=leave.ends_on,
        start_half=leave.start_half,
        end_half=leave.end_half,
    )
    if days <= 0:
        raise LeaveNoWorkingDaysError(
            starts_on=leave.starts_on.isoformat(), ends_on=leave.ends_on.isoformat()
        )
    overlapping = selectors.leave_requests_overlapping(
        employee=leave.employee, starts_on=leave.starts_on, ends_on=leave.ends_on
    ).first()
    if overlapping is not None:
        raise LeaveOverlapsError(
            employee_id=str(leave.employee_id),
            starts_on=leave.starts_on.isoformat(),
            ends_on=leave.ends_on.isoformat(),
            overlapping_id=str(overlapping.pk),
        )
    _balance_lock(employee_id=leave.employee_id, leave_type_id=leave.leave_type_id)
    _balance_check(leave=leave, spend=days, count_pending=True)
    leave.days = days
    leave.status = Status.PENDING
    leave.submitted_at = timezone.now()
    audit_fields(leave, actor, created=False)
    _save_request(leave)
    _notify_after_commit(
        event="hr.leave_submitted", leave=leave, users=_approver_users(leave.employee)
    )
    return leave


def _require_decider(*, actor: Actor, leave: LeaveRequest) -> None:
    if selectors.leave_approver_may_decide(actor=actor, leave=leave):
        return
    own = employee_for_user(user=actor.user)
    if own is not None and own.pk == leave.employee_id:
        raise LeaveSelfApprovalError(leave_request_id=str(leave.pk))
    raise PermissionDeniedError(permission="hr.approve_leave")


@transaction.atomic
def leave_request_approve(*, actor: Actor, leave: LeaveRequest, note: str = "") -> LeaveRequest:
    """pending -> approved, writing the usage entry (once: the ledger allows one entry per
    request and kind). The balance is checked again under the employee's balance lock,
    so concurrent approvals cannot overdraw it. Notifies the employee after commit."""
    _require_decider(actor=actor, leave=leave)
    leave = _locked(leave)
    if leave.status != Status.PENDING:
        raise _refuse_transition(leave, Status.APPROVED)
    if leave.leave_type.tracks_balance:
        _balance_lock(employee_id=leave.employee_id, leave_type_id=leave.leave_type_id)
        _balance_check(leave=leave, spend=leave.days, count_pending=False)
        LeaveLedgerEntry.objects.get_or_create(
            leave_request=leave,
            kind=Kind.USAGE,
            defaults={
                "employee_id": leave.employee_id,
                "leave_type_id": leave.leave_type_id,
                "days": -leave.days,
                "effective_on": leave.starts_on,
                "created_by": actor.user,
                "updated_by": actor.user,
            },
        )
    leave.status = Status.APPROVED
    leave.decided_by = actor.user
    leave.decided_at = timezone.now()
    leave.decision_note = note
    audit_fields(leave, actor, created=False)
    _save_request(leave)
    _notify_after_commit(event="hr.leave_approved", leave=leave, users=_employee_users(leave))
    return leave


@transaction.atomic
def leave_request_reject(*, actor: Actor, leave: LeaveRequest, note: str = "") -> LeaveRequest:
    """pending -> rejected. Notifies the employee after commit."""
    _require_decider(actor=actor, leave=leave)
    leave = _locked(leave)
    if leave.status != Status.PENDING:
        raise _refuse_transition(leave, Status.REJECTED)
    leave.status = Status.REJECTED
    leave.decided_by = actor.user
    leave.decided_at = timezone.now()
    leave.decision_note = note
    audit_fields(leave, actor, created=False)
    _save_request(leave)
    _notify_after_commit(event="hr.leave_rejected", leave=leave, users=_employee_users(leave))
    return leave


@transaction.atomic
def leave_request_cancel(*, actor: Actor, leave: LeaveRequest) -> LeaveRequest:
    """By the employee or an HR admin: a draft or pending request, or an approved one that
    has not ended yet (its usage is reversed: the days go back to the balance). Leave
    already taken stays; correct it with an adjustment."""
    _require_owner_or_hr_admin(actor=actor, leave=leave)
    leave = _locked(leave)
    if leave.status not in (Status.DRAFT, Status.PENDING, Status.APPROVED):
        raise _refuse_transition(leave, Status.CANCELLED)
    if leave.status == Status.APPROVED:
        if leave.ends_on < timezone.localdate():
            raise _refuse_transition(leave, Status.CANCELLED)
        usage = LeaveLedgerEntry.objects.filter(leave_request=leave, kind=Kind.USAGE).first()
        if usage is not None:
            LeaveLedgerEntry.objects.get_or_create(
                leave_request=leave,
                kind=Kind.REVERSAL,
                defaults={
                    "employee_id": leave.employee_id,
                    "leave_type_id": leave.leave_type_id,
                    "days": -usage.days,
                    "effective_on": timezone.localdate(),
                    "note": "Approved leave cancelled.",
                    "created_by": actor.user,
                    "updated_by": actor.user,
                },
            )
    leave.status = Status.CANCELLED
    leave.cancelled_at = timezone.now()
    audit_fields(leave, actor, created=False)
    _save_request(leave)
    return leave


# --- ledger --------------------------------------------------------------------------------


@transaction.atomic
def leave_adjustment_create(
    *,
    actor: Actor,
    employee_id: object,
    leave_type_id: object,
    days: Decimal,
    note: str,
    effective_on: date | None = None,
) -> LeaveLedgerEntry:
    """An HR admin's correction of a balance, up or down, with a note saying why. A
    decrease may not take a balance below zero unless the type allows it
    (InsufficientBalanceError)."""
    require_perm(actor, ALL_EMPLOYEES_PERMISSION)
    require_perm(actor, "hr.add_leaveledgerentry")
    errors: dict[str, list[str]] = {}
    employee = Employee.objects.filter(pk=employee_id).first()
    if employee is None:
        errors["employee"] = ["Unknown employee."]
    leave_type = LeaveType.objects.filter(pk=leave_type_id).first()
    if leave_type is None:
        errors["leave_type"] = ["Unknown leave type."]
    if days == 0 or abs(days) > MAX_LEDGER_DAYS or days != round(days, 2):
        errors["days"] = [f"Non-zero, at most {MAX_LEDGER_DAYS} either way, two decimals."]
    if not note.strip():
        errors["note"] = ["Say why the balance changes."]
    if errors or employee is None or leave_type is None:
        raise ValidationError(errors)
    _balance_lock(employee_id=employee.pk, leave_type_id=leave_type.pk)
    if days < 0 and leave_type.tracks_balance and not leave_type.allows_negative_balance:
        balance = selectors.leave_balance_days(employee=employee, leave_type=leave_type)
        if balance + days < 0:
            raise InsufficientBalanceError(
                leave_type=leave_type.code, available=str(balance), requested=str(-days)
            )
    entry = LeaveLedgerEntry(
        employee=employee,
        leave_type=leave_type,
        kind=Kind.ADJUSTMENT,
        days=days,
        effective_on=effective_on or timezone.localdate(),
        note=note.strip(),
    )
    audit_fields(entry, actor, created=True)
    entry.save()
    return entry


# --- accrual -------------------------------------------------------------------------------


def accrual_period(*, frequency: str, on: date) -> tuple[str, date]:
    """(period_key, first day) of the accrual period containing ``on``."""
    if frequency == AccrualPolicy.Frequency.MONTHLY:
        return f"{on.year:04d}-{on.month:02d}", on.replace(day=1)
    return f"{on.year:04d}", date(on.year, 1, 1)


def leave_accrue(*, on: date) -> int:
    """Post this period's accrual for every employee and accruing leave type; returns
    the number of entries written.

    Idempotent: one accrual per employee, type and period (a partial unique constraint),
    so a second run in the same period writes nothing. An employee accrues once they
    have started (employment_start on or before ``on``) and until the period after
    their employment ended; deleted employees never. ``cap_days`` bounds the balance an
    accrual may bring the employee to (a smaller last accrual, then none). Periods
    before the first run are not back-filled: accrual starts when the policy does.
    """
    written = 0
    policies = AccrualPolicy.objects.select_related("leave_type").filter(leave_type__is_active=True)
    for policy in policies:
        period_key, first_day = accrual_period(frequency=policy.frequency, on=on)
        employees = Employee.objects.filter(employment_start__lte=on).filter(
            Q(employment_end__isnull=True) | Q(employment_end__gte=first_day)
        )
        already = set(
            LeaveLedgerEntry.objects.filter(
                leave_type=policy.leave_type, kind=Kind.ACCRUAL, period_key=period_key
            ).values_list("employee_id", flat=True)
        )
        for employee in employees:
            if employee.pk in already:
                continue
            written += _accrue_one(policy=policy, employee=employee, period_key=period_key, on=on)
    return written


@transaction.atomic
def _accrue_one(*, policy: AccrualPolicy, employee: Employee, period_key: str, on: date) -> int:
    leave_type = policy.leave_type
    _balance_lock(employee_id=employee.pk, leave_type_id=leave_type.pk)
    amount = policy.days_per_period
    if policy.cap_days is not None:
        balance = selectors.leave_balance_days(employee=employee, leave_type=leave_type)
        amount = min(amount, policy.cap_days - balance)
    if amount <= 0:
        return 0
    entry = LeaveLedgerEntry(
        employee=employee,
        leave_type=leave_type,
        kind=Kind.ACCRUAL,
        days=amount,
        effective_on=max(on, employee.employment_start),
        period_key=period_key,
        note=f"{policy.get_frequency_display()} accrual",
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        return 0  # a concurrent run posted this period first
    return 1


# --- notifications -------------------------------------------------------------------------


def _approver_users(employee: Employee) -> list[User]:
    """Who decides ``employee``'s leave: their manager's user; when there is none (or it
    has no active account), the tenant's HR admins."""
    manager = employee.manager
    if manager is not None and manager.user_id is not None and manager.user.is_active:
        return [manager.user]
    admins = User.objects.filter(
        is_active=True,
        roles__permissions__content_type__app_label="hr",
        roles__permissions__codename="access_all_employees",
    ).distinct()
    if employee.user_id is not None:
        admins = admins.exclude(pk=employee.user_id)
    return list(admins)


def _employee_users(leave: LeaveRequest) -> list[User]:
    user = leave.employee.user
    return [user] if user is not None and user.is_active else []


def _notification_context(leave: LeaveRequest) -> dict[str, Any]:
    return {
        "leave_request_id": str(leave.pk),
        "employee_name": leave.employee.full_name,
        "leave_type": leave.leave_type.name,
        "starts_on": leave.starts_on.isoformat(),
        "ends_on": leave.ends_on.isoformat(),
        "days": str(leave.days),
        "status": leave.status,
        "reason": leave.reason,
        "decision_note": leave.decision_note,
    }


def _notify_after_commit(*, event: str, leave: LeaveRequest, users: list[User]) -> None:
    """Notify once the change is committed (a rolled-back approval tells nobody). A failing
    notification is logged and never undoes the committed change (``robust``)."""
    if not users:
        logger.info("No recipient for %s of leave %s", event, leave.pk)
        return
    # Imported here: notifications is another app, reached only through its service.
    from apps.notifications.services import notify

    schema_name = current_schema()
    context = _notification_context(leave)
    dedupe_key = f"{event}:{leave.pk}"

    def send() -> None:
        with in_tenant(schema_name):
            notify(
                event=event,
                recipients=users,
                context=context,
                channels=NOTIFY_CHANNELS,
                dedupe_key=dedupe_key,
            )

    transaction.on_commit(send, robust=True)


# --- defaults ------------------------------------------------------------------------------

DEFAULT_LEAVE_TYPES = (
    # code, name, is_paid, tracks_balance, (frequency, days per period, cap) or None
    ("annual", "Annual leave", True, True, ("monthly", Decimal("2.08"), Decimal(35))),
    ("sick", "Sick leave", True, False, None),
    ("unpaid", "Unpaid leave", False, False, None),
)


@transaction.atomic
def leave_type_defaults_ensure(*, on: date | None = None) -> bool:
    """Give a tenant that has no leave type at all the usual three (annual with a monthly
    accrual, sick, unpaid) and post this month's accrual; True when it did. A tenant
    that has any type, active or not, is left alone."""
    if LeaveType.objects.exists():
        return False
    for code, name, is_paid, tracks_balance, accrual in DEFAULT_LEAVE_TYPES:
        leave_type = LeaveType.objects.create(
            code=code, name=name, is_paid=is_paid, tracks_balance=tracks_balance
        )
        if accrual is not None:
            frequency, days_per_period, cap_days = accrual
            AccrualPolicy.objects.create(
                leave_type=leave_type,
                frequency=frequency,
                days_per_period=days_per_period,
                cap_days=cap_days,
            )
    leave_accrue(on=on or timezone.localdate())
    return True
