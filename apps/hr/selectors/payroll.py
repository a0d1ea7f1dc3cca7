"""Reads for HR payroll: who sees which component, assignment, run and payslip, and the
bulk inputs of a payroll computation.

Row scope: an HR admin (``hr.access_all_payslips``) sees every assignment, run and
payslip; anyone else sees only their own assignments and their own payslips of approved
runs (a run that can still change is not shown to employees). Payroll runs, with the
company's totals, are for HR admins only.

The bulk loaders read each kind of input once for the whole month, whatever the number of
employees: a payroll of 10,000 people issues the same dozen queries as one of ten.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Prefetch, Q, QuerySet, Sum

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.hr.models import (
    AttendanceRecord,
    Employee,
    HrPolicy,
    LeaveRequest,
    PayrollRun,
    Payslip,
    PayslipLine,
    SalaryAssignment,
    SalaryComponent,
    SalaryStructure,
    ShiftAssignment,
    TenantHoliday,
)
from apps.hr.selectors.people import employee_for_user
from apps.hr.selectors.policy import hr_policy_get

ALL_PAYSLIPS_PERMISSION = "hr.access_all_payslips"
RUN_PAYROLL_PERMISSION = "hr.run_payroll"


# --- components and structures -------------------------------------------------------------


def salary_component_list(*, actor: Actor) -> QuerySet[SalaryComponent]:
    require_perm(actor, "hr.view_salarycomponent")
    return SalaryComponent.objects.select_related("base_component")


def salary_component_get(*, actor: Actor, component_id: object) -> SalaryComponent:
    component = salary_component_list(actor=actor).filter(pk=component_id).first()
    if component is None:
        raise NotFoundError()
    return component


def salary_component_codes() -> dict[str, SalaryComponent]:
    """Every component by code; for validating formulas against the whole catalogue."""
    return {component.code: component for component in SalaryComponent.objects.all()}


def salary_structure_list(*, actor: Actor) -> QuerySet[SalaryStructure]:
    require_perm(actor, "hr.view_salarystructure")
    return SalaryStructure.objects.prefetch_related("components")


def salary_structure_get(*, actor: Actor, structure_id: object) -> SalaryStructure:
    structure = salary_structure_list(actor=actor).filter(pk=structure_id).first()
    if structure is None:
        raise NotFoundError()
    return structure


# --- assignments ---------------------------------------------------------------------------


def salary_assignment_list(*, actor: Actor) -> QuerySet[SalaryAssignment]:
    require_perm(actor, "hr.view_salaryassignment")
    queryset = SalaryAssignment.objects.select_related("employee", "structure")
    if actor.has_perm(ALL_PAYSLIPS_PERMISSION):
        return queryset
    return queryset.filter(employee__user=actor.user, employee__deleted_at__isnull=True)


def salary_assignment_get(*, actor: Actor, assignment_id: object) -> SalaryAssignment:
    assignment = salary_assignment_list(actor=actor).filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFoundError()
    return assignment


# --- runs and payslips ---------------------------------------------------------------------


def payroll_run_list(*, actor: Actor) -> QuerySet[PayrollRun]:
    require_perm(actor, ALL_PAYSLIPS_PERMISSION)
    return PayrollRun.objects.select_related("job", "approved_by")


def payroll_run_get(*, actor: Actor, run_id: object) -> PayrollRun:
    run = payroll_run_list(actor=actor).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError()
    return run


def payroll_run_for_period(*, period: date) -> PayrollRun | None:
    return PayrollRun.objects.filter(period=period).first()


def payslip_list(*, actor: Actor) -> QuerySet[Payslip]:
    """Every payslip for an HR admin; otherwise the caller's own, of approved runs only."""
    require_perm(actor, "hr.view_payslip")
    queryset = Payslip.objects.select_related("run", "employee")
    if actor.has_perm(ALL_PAYSLIPS_PERMISSION):
        return queryset
    return queryset.filter(
        employee__user=actor.user,
        employee__deleted_at__isnull=True,
        run__status=PayrollRun.Status.APPROVED,
    )


def payslip_get(*, actor: Actor, payslip_id: object) -> Payslip:
    """One payslip the caller may see; NotFoundError (404) for anyone else's."""
    payslip = (
        payslip_list(actor=actor)
        .prefetch_related(Prefetch("lines", queryset=PayslipLine.objects.order_by("position")))
        .filter(pk=payslip_id)
        .first()
    )
    if payslip is None:
        raise NotFoundError()
    return payslip


def payslip_list_own(*, actor: Actor) -> QuerySet[Payslip]:
    """The caller's own payslips of approved runs, newest first (the "my payslips" page);
    HR admins see only their own here too."""
    own = employee_for_user(user=actor.user)
    if own is None:
        return Payslip.objects.none()
    return (
        Payslip.objects.select_related("run", "employee")
        .filter(employee=own, run__status=PayrollRun.Status.APPROVED)
        .order_by("-run__period")
    )


def payslip_get_own(*, actor: Actor, payslip_id: object) -> Payslip:
    payslip = payslip_list_own(actor=actor).filter(pk=payslip_id).first()
    if payslip is None:
        raise NotFoundError()
    return payslip


def payslip_ids_to_issue(*, run: PayrollRun) -> list[Any]:
    """Payslips of ``run`` still missing their PDF or their email, in a stable order."""
    return list(
        Payslip.objects.filter(run=run, error_code="")
        .filter(Q(pdf="") | Q(emailed_at__isnull=True))
        .order_by("employee__employee_number")
        .values_list("pk", flat=True)
    )


def payroll_register_rows(*, actor: Actor, run: PayrollRun) -> QuerySet[Payslip]:
    """The register's payslips of ``run`` (HR admins only), in employee-number order."""
    return payslip_list(actor=actor).filter(run=run).order_by("employee__employee_number")


# --- bulk inputs of a computation ----------------------------------------------------------


@dataclass(frozen=True)
class LeaveSpan:
    starts_on: date
    ends_on: date
    start_half: bool
    end_half: bool
    is_paid: bool


@dataclass(frozen=True)
class RosterSpan:
    weekdays: frozenset[int]
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class AssignmentSpan:
    structure_id: Any
    base_pay: Decimal
    effective_from: date


@dataclass
class PayrollInputs:
    """Everything a month's computation reads, grouped by employee id."""

    policy: HrPolicy
    employees: list[Employee]
    assignments: dict[Any, list[AssignmentSpan]]
    structures: dict[Any, SalaryStructure]
    presence: dict[Any, set[date]]
    overtime_minutes: dict[Any, int]
    leave: dict[Any, list[LeaveSpan]]
    roster: dict[Any, list[RosterSpan]]
    tenant_holidays: set[date] = field(default_factory=set)


def payroll_inputs_load(*, period_start: date, period_end: date) -> PayrollInputs:
    """The month's inputs in a fixed number of queries (none per employee).

    In scope: employees (not deleted) employed at some point of the month who have a
    salary assignment that takes effect by its last day. Attendance comes back as one
    GROUP BY per employee: the days with a record (presence; rejected punches do not
    count) and the overtime minutes of closed records whose approval is not pending or
    rejected.
    """
    policy = hr_policy_get()
    employees = list(
        Employee.objects.filter(employment_start__lte=period_end)
        .filter(Q(employment_end__isnull=True) | Q(employment_end__gte=period_start))
        .filter(salary_assignments__effective_from__lte=period_end)
        .distinct()
        .order_by("employee_number")
        .only(
            "id",
            "employee_number",
            "first_name",
            "last_name",
            "employment_start",
            "employment_end",
            "email",
            "user_id",
        )
    )

    assignments: dict[Any, list[AssignmentSpan]] = defaultdict(list)
    for employee_id, structure_id, base_pay, effective_from in (
        SalaryAssignment.objects.filter(
            effective_from__lte=period_end, employee__deleted_at__isnull=True
        )
        .order_by("employee_id", "effective_from")
        .values_list("employee_id", "structure_id", "base_pay", "effective_from")
    ):
        assignments[employee_id].append(AssignmentSpan(structure_id, base_pay, effective_from))

    structures = {
        structure.pk: structure
        for structure in SalaryStructure.objects.prefetch_related(
            Prefetch(
                "components",
                queryset=SalaryComponent.objects.select_related("base_component").order_by("code"),
            )
        )
    }

    presence: dict[Any, set[date]] = {}
    overtime_minutes: dict[Any, int] = {}
    counted_overtime = Q(
        state__in=[AttendanceRecord.State.CLOSED, AttendanceRecord.State.AUTO_CLOSED]
    ) & ~Q(approval__in=[AttendanceRecord.Approval.PENDING, AttendanceRecord.Approval.REJECTED])
    for employee_id, days, minutes in (
        AttendanceRecord.objects.filter(work_date__gte=period_start, work_date__lte=period_end)
        .exclude(approval=AttendanceRecord.Approval.REJECTED)
        .order_by()
        .values("employee_id")
        .annotate(
            days=ArrayAgg("work_date", distinct=True),
            minutes=Sum("overtime_minutes", filter=counted_overtime, default=0),
        )
        .values_list("employee_id", "days", "minutes")
    ):
        presence[employee_id] = set(days)
        overtime_minutes[employee_id] = int(minutes)

    leave: dict[Any, list[LeaveSpan]] = defaultdict(list)
    for employee_id, starts_on, ends_on, start_half, end_half, is_paid in (
        LeaveRequest.objects.filter(
            status=LeaveRequest.Status.APPROVED,
            starts_on__lte=period_end,
            ends_on__gte=period_start,
        )
        .order_by("employee_id", "starts_on")
        .values_list(
            "employee_id", "starts_on", "ends_on", "start_half", "end_half", "leave_type__is_paid"
        )
    ):
        leave[employee_id].append(LeaveSpan(starts_on, ends_on, start_half, end_half, is_paid))

    roster: dict[Any, list[RosterSpan]] = defaultdict(list)
    for employee_id, weekdays, valid_from, valid_to in (
        ShiftAssignment.objects.filter(valid_from__lte=period_end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=period_start))
        .order_by("employee_id", "valid_from")
        .values_list("employee_id", "weekdays", "valid_from", "valid_to")
    ):
        roster[employee_id].append(RosterSpan(frozenset(weekdays or []), valid_from, valid_to))

    tenant_holidays = set(
        TenantHoliday.objects.filter(date__gte=period_start, date__lte=period_end).values_list(
            "date", flat=True
        )
    )
    return PayrollInputs(
        policy=policy,
        employees=employees,
        assignments=dict(assignments),
        structures=structures,
        presence=presence,
        overtime_minutes=overtime_minutes,
        leave=dict(leave),
        roster=dict(roster),
        tenant_holidays=tenant_holidays,
    )
