"""Reads for HR leave, and who may see which leave rows.

Row scope of leave (requests, balances, ledger): everyone sees their own; a manager sees
the leave of their reports at any depth; an HR admin (``hr.access_all_employees``) sees
everything. A row outside the scope is "not found", never "forbidden".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.hr import calendar
from apps.hr.errors import HolidayCalendarUnknownError
from apps.hr.models import (
    AccrualPolicy,
    Employee,
    LeaveLedgerEntry,
    LeaveRequest,
    LeaveType,
    TenantHoliday,
)
from apps.hr.selectors.people import (
    ALL_EMPLOYEES_PERMISSION,
    employee_for_user,
    employee_report_ids,
)
from apps.hr.selectors.policy import hr_policy_get

ZERO = Decimal(0)


# --- who sees whom -------------------------------------------------------------------------


def leave_visible_employee_ids(*, actor: Actor) -> set | None:
    """Ids of the employees whose leave ``actor`` may see; None means everyone."""
    if actor.has_perm(ALL_EMPLOYEES_PERMISSION):
        return None
    own = employee_for_user(user=actor.user)
    if own is None:
        return set()
    return {own.pk, *employee_report_ids(employee=own)}


def _scoped(queryset: QuerySet, *, actor: Actor, field: str = "employee_id") -> QuerySet:
    visible = leave_visible_employee_ids(actor=actor)
    return queryset if visible is None else queryset.filter(**{f"{field}__in": visible})


def leave_employee_get(*, actor: Actor, employee_id: object) -> Employee:
    """An employee whose leave ``actor`` may see (NotFoundError otherwise)."""
    employee = _scoped(Employee.objects.all(), actor=actor, field="pk").filter(pk=employee_id)
    found = employee.first()
    if found is None:
        raise NotFoundError()
    return found


def leave_approver_may_decide(*, actor: Actor, leave: LeaveRequest) -> bool:
    """True when ``actor`` may approve or reject ``leave`` (their own is never theirs to
    decide): an HR admin, or a holder of ``hr.approve_leave`` above the employee in the
    manager chain."""
    own = employee_for_user(user=actor.user)
    if own is not None and own.pk == leave.employee_id:
        return False
    if actor.has_perm(ALL_EMPLOYEES_PERMISSION):
        return True
    if own is None or not actor.has_perm("hr.approve_leave"):
        return False
    return leave.employee_id in employee_report_ids(employee=own)


# --- leave types and holidays --------------------------------------------------------------


def leave_type_list(*, actor: Actor, active_only: bool = False) -> QuerySet[LeaveType]:
    # Every user of the tenant may read the types: they must choose one to ask for leave.
    queryset = LeaveType.objects.select_related("accrual_policy")
    return queryset.filter(is_active=True) if active_only else queryset


def leave_type_get(*, actor: Actor, leave_type_id: object) -> LeaveType:
    leave_type = leave_type_list(actor=actor).filter(pk=leave_type_id).first()
    if leave_type is None:
        raise NotFoundError()
    return leave_type


def accrual_policy_get(*, actor: Actor, leave_type: LeaveType) -> AccrualPolicy:
    policy = AccrualPolicy.objects.filter(leave_type=leave_type).first()
    if policy is None:
        raise NotFoundError()
    return policy


def tenant_holiday_list(*, actor: Actor) -> QuerySet[TenantHoliday]:
    return TenantHoliday.objects.all()


def tenant_holiday_get(*, actor: Actor, holiday_id: object) -> TenantHoliday:
    holiday = tenant_holiday_list(actor=actor).filter(pk=holiday_id).first()
    if holiday is None:
        raise NotFoundError()
    return holiday


@dataclass(frozen=True)
class HolidayRow:
    date: date
    name: str
    source: str  # "public" (the `holidays` library) or "tenant"
    id: object = None


def holiday_list_for_year(*, year: int) -> list[HolidayRow]:
    """Public holidays of the policy's country/subdivision and the tenant's own, by date.

    Raises HolidayCalendarUnknownError when the policy names a calendar the library lacks.
    """
    policy = hr_policy_get()
    try:
        public = calendar.public_holidays(
            country=policy.holiday_country,
            subdivision=policy.holiday_subdivision or None,
            year=year,
        )
    except calendar.UnknownCountryError as error:
        raise HolidayCalendarUnknownError(
            country=policy.holiday_country, subdivision=policy.holiday_subdivision
        ) from error
    rows = [HolidayRow(date=day, name=name, source="public") for day, name in public.items()]
    rows += [
        HolidayRow(date=holiday.date, name=holiday.name, source="tenant", id=holiday.pk)
        for holiday in TenantHoliday.objects.filter(date__year=year)
    ]
    return sorted(rows, key=lambda row: (row.date, row.source))


def tenant_holiday_dates(*, start: date, end: date) -> set[date]:
    return set(
        TenantHoliday.objects.filter(date__gte=start, date__lte=end).values_list("date", flat=True)
    )


# --- requests ------------------------------------------------------------------------------


def leave_request_list(*, actor: Actor) -> QuerySet[LeaveRequest]:
    queryset = LeaveRequest.objects.select_related("employee", "leave_type", "decided_by")
    return _scoped(queryset, actor=actor)


def leave_request_get(*, actor: Actor, leave_request_id: object) -> LeaveRequest:
    leave = leave_request_list(actor=actor).filter(pk=leave_request_id).first()
    if leave is None:
        raise NotFoundError()
    return leave


def leave_request_list_awaiting(*, actor: Actor) -> QuerySet[LeaveRequest]:
    """Pending requests ``actor`` may decide: their reports' (with ``hr.approve_leave``),
    or everyone's but their own for an HR admin."""
    pending = leave_request_list(actor=actor).filter(status=LeaveRequest.Status.PENDING)
    own = employee_for_user(user=actor.user)
    if own is not None:
        pending = pending.exclude(employee=own)
    if actor.has_perm(ALL_EMPLOYEES_PERMISSION):
        return pending
    if own is None or not actor.has_perm("hr.approve_leave"):
        return pending.none()
    return pending.filter(employee_id__in=employee_report_ids(employee=own))


def leave_requests_overlapping(
    *, employee: Employee, starts_on: date, ends_on: date, exclude_id: object = None
) -> QuerySet[LeaveRequest]:
    """Pending or approved requests of ``employee`` sharing at least one day with the range."""
    queryset = LeaveRequest.objects.filter(
        employee=employee,
        status__in=[LeaveRequest.Status.PENDING, LeaveRequest.Status.APPROVED],
        starts_on__lte=ends_on,
        ends_on__gte=starts_on,
    )
    return queryset.exclude(pk=exclude_id) if exclude_id is not None else queryset


# --- balances and ledger -------------------------------------------------------------------


@dataclass(frozen=True)
class LeaveBalance:
    leave_type: LeaveType
    accrued: Decimal
    used: Decimal
    adjusted: Decimal
    balance: Decimal
    pending: Decimal

    @property
    def available(self) -> Decimal:
        return self.balance - self.pending


def leave_balance_days(*, employee: Employee, leave_type: LeaveType) -> Decimal:
    """The ledger sum: what the employee has of this type, before pending requests."""
    total = LeaveLedgerEntry.objects.filter(employee=employee, leave_type=leave_type).aggregate(
        total=Sum("days")
    )["total"]
    return total or ZERO


def leave_pending_days(
    *, employee: Employee, leave_type: LeaveType, exclude_id: object = None
) -> Decimal:
    queryset = LeaveRequest.objects.filter(
        employee=employee, leave_type=leave_type, status=LeaveRequest.Status.PENDING
    )
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset.aggregate(total=Sum("days"))["total"] or ZERO


def leave_balance_list(
    *, employee: Employee, leave_types: Iterable[LeaveType] | None = None
) -> list[LeaveBalance]:
    """One LeaveBalance per leave type (active types, and any inactive one the employee
    still has ledger entries for). ``used`` is net of reversals."""
    sums: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for row in (
        LeaveLedgerEntry.objects.filter(employee=employee)
        .values("leave_type_id", "kind")
        .annotate(total=Sum("days"))
    ):
        sums[(row["leave_type_id"], row["kind"])] = row["total"]
    pending: dict[object, Decimal] = {
        row["leave_type_id"]: row["total"]
        for row in LeaveRequest.objects.filter(
            employee=employee, status=LeaveRequest.Status.PENDING
        )
        .values("leave_type_id")
        .annotate(total=Sum("days"))
    }
    if leave_types is None:
        with_entries = {type_id for type_id, _ in sums}
        leave_types = LeaveType.objects.filter(Q(is_active=True) | Q(pk__in=with_entries))
    kinds = LeaveLedgerEntry.Kind
    balances = []
    for leave_type in leave_types:
        accrued = sums[(leave_type.pk, kinds.ACCRUAL)]
        used = -(sums[(leave_type.pk, kinds.USAGE)] + sums[(leave_type.pk, kinds.REVERSAL)])
        adjusted = sums[(leave_type.pk, kinds.ADJUSTMENT)]
        balances.append(
            LeaveBalance(
                leave_type=leave_type,
                accrued=accrued,
                used=used,
                adjusted=adjusted,
                balance=accrued - used + adjusted,
                pending=pending.get(leave_type.pk, ZERO),
            )
        )
    return balances


def leave_ledger_list(*, actor: Actor) -> QuerySet[LeaveLedgerEntry]:
    queryset = LeaveLedgerEntry.objects.select_related("leave_type", "employee")
    return _scoped(queryset, actor=actor)
