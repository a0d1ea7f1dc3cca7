"""Writes for HR payroll: components, structures, assignments, runs, payslips.

How a month is paid (``payroll_run_compute``), in the order of the payslip's lines:

- **Working days** are the month's days that are neither a weekend day of the HR policy
  nor a public holiday of its country/subdivision (apps.hr.calendar) nor a tenant holiday.
  Every proration uses working days: ``base × employed days / working days``.
- **Base pay** comes from the salary assignment in effect on each working day (the latest
  ``effective_from`` on or before it), so a mid-month pay change is prorated across its
  two parts. Days before the first assignment, before ``employment_start`` or after
  ``employment_end`` are not paid. The structure (components) is the one in effect on the
  last paid day.
- **Unpaid leave**: approved requests of unpaid leave types, counted in working days with
  half days (as the leave module counts them), at the daily rate ``monthly_base /
  working days``.
- **Absences**: days the employee was rostered (a ShiftAssignment weekday) while employed,
  before today, that are not a holiday, have no approved leave (paid or unpaid) and no
  attendance record (rejected punches do not count). Employees without a roster have no
  absences. Deducted at the daily rate. Unpaid leave plus absences never take more than
  the base pay earned.
- **Overtime**: the overtime minutes of closed, not pending or rejected, attendance
  records, paid at ``hourly_rate × policy.overtime_multiplier`` where ``hourly_rate =
  daily_rate / policy.standard_day_hours``.
- **Components** of the structure, earnings then deductions, by code: fixed amounts
  (prorated like the base pay unless ``is_prorated`` is off), percentages of another
  component (or of ``base``), and formulas (apps.hr.formula, never ``eval``) over other
  components' codes and the inputs in ``FORMULA_INPUTS``.

Rounding (apps.hr.money): figures are computed at full precision and rounded to the cent
only when a line is stored; gross and deductions are sums of the rounded lines, net is
their difference, and a run's totals are sums of its payslips.

An employee whose computation fails (a formula dividing by zero, say) gets a payslip with
``error_code`` and no lines; the run is ``computed`` with ``error_count`` and cannot be
approved until that is fixed and the run recomputed.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.accounts.selectors import require_perm
from apps.core.types import Actor
from apps.hr import calendar as hr_calendar
from apps.hr import formula as hr_formula
from apps.hr.errors import (
    ComponentInUseError,
    FormulaCycleError,
    FormulaDivisionByZeroError,
    FormulaInvalidError,
    FormulaUnknownComponentError,
    HolidayCalendarUnknownError,
    NameTakenError,
    PayrollComputingError,
    PayrollLockedError,
    PayrollNotComputedError,
    PayrollRunExistsError,
    SalaryAssignmentExistsError,
    StructureInUseError,
)
from apps.hr.models import (
    Employee,
    HrPolicy,
    PayrollRun,
    Payslip,
    PayslipLine,
    SalaryAssignment,
    SalaryComponent,
    SalaryStructure,
)
from apps.hr.models.payroll import COMPONENT_CODE_PATTERN
from apps.hr.money import money, prorate
from apps.hr.selectors import payroll as selectors
from apps.hr.services.common import audit_fields, references_apply
from apps.jobs.dispatch import enqueue
from apps.jobs.services import job_run_start

logger = logging.getLogger("tenantry.hr.payroll")

JOB_KIND = "hr.payroll_run"
PAYSLIP_EVENT = "hr.payslip_ready"

# Names a formula may use besides other components' codes.
FORMULA_INPUTS: dict[str, str] = {
    "base": "Base pay earned this month (after proration for joining, leaving or a change).",
    "monthly_base": "Monthly base pay in effect on the last paid day.",
    "days_in_period": "Calendar days in the month.",
    "working_days": "Working days in the month (policy weekend and holidays excluded).",
    "employed_days": "Working days of the month the employee was employed and assigned.",
    "days_payable": "employed_days minus unpaid leave days and absent days.",
    "unpaid_leave_days": "Working days of approved unpaid leave (half days as 0.5).",
    "absent_days": "Rostered days without attendance, leave or holiday.",
    "overtime_hours": "Hours of overtime from closed attendance records.",
    "daily_rate": "monthly_base / working_days.",
    "hourly_rate": "daily_rate / the policy's standard day hours.",
}

_HUNDRED = Decimal(100)


# --- helpers -------------------------------------------------------------------------------


def _amount_text(value: Decimal) -> str:
    return f"{money(value):,.2f}"


def _number_text(value: Decimal | int) -> str:
    number = Decimal(value)
    text = f"{number.quantize(Decimal('0.01')):f}" if number != number.to_integral() else ""
    return text.rstrip("0").rstrip(".") if text else str(int(number))


# --- formula validation --------------------------------------------------------------------


def _formula_of(component: SalaryComponent, base_code: str | None) -> str | None:
    """The component as a formula for the evaluator: percentages become one too, so the
    dependency order, cycles and unknown names are handled in one place."""
    if component.calculation == SalaryComponent.Calculation.FORMULA:
        return component.formula
    if component.calculation == SalaryComponent.Calculation.PERCENTAGE:
        return f"({base_code or 'base'}) * ({component.percentage}) / 100"
    return None


def _trial_values(names: Iterable[str]) -> dict[str, Decimal]:
    # Distinct, non-zero, non-integer values: a division that is zero even for these is
    # a division by zero for every employee (base / (2 - 2), x / 0).
    return {name: Decimal(index + 2) + Decimal("0.37") for index, name in enumerate(sorted(names))}


def _formula_check(*, code: str, formula: str, known: set[str]) -> None:
    try:
        names = hr_formula.formula_dependencies(formula)
    except hr_formula.FormulaError as error:
        raise FormulaInvalidError(str(error), component=code) from error
    unknown = sorted(names - known - FORMULA_INPUTS.keys())
    if unknown:
        raise FormulaUnknownComponentError(component=code, names=unknown)
    try:
        hr_formula.evaluate(formula, _trial_values(names))
    except hr_formula.FormulaDivisionByZeroError as error:
        raise FormulaDivisionByZeroError(component=code) from error
    except hr_formula.FormulaError:
        pass  # overflow of the trial values only; real values decide at run time


def _catalogue_check(components: Sequence[SalaryComponent]) -> None:
    """Raise FormulaCycleError when the components' formulas and percentages refer to each
    other in a cycle (unknown names are checked per formula before)."""
    by_pk = {component.pk: component for component in components}
    formulas: dict[str, str] = {}
    fixed: set[str] = set(FORMULA_INPUTS)
    for component in components:
        base = by_pk.get(component.base_component_id)
        expression = _formula_of(component, base.code if base else None)
        if expression is None:
            fixed.add(component.code)
        else:
            formulas[component.code] = expression
    try:
        hr_formula.evaluation_order(formulas, fixed)
    except hr_formula.FormulaCycleError as error:
        raise FormulaCycleError(str(error), cycle=error.cycle) from error
    except hr_formula.UnknownComponentError as error:
        raise FormulaUnknownComponentError(component=error.component, names=[error.name]) from error
    except hr_formula.FormulaError as error:
        raise FormulaInvalidError(str(error), component=error.component) from error


def _structure_check(*, components: Sequence[SalaryComponent]) -> None:
    """Every formula and percentage of a structure only uses that structure's components
    and the inputs; FormulaUnknownComponentError names the first that does not."""
    codes = {component.code for component in components}
    by_pk = {component.pk: component for component in components}
    for component in components:
        if component.calculation == SalaryComponent.Calculation.FORMULA:
            missing = sorted(
                hr_formula.formula_dependencies(component.formula) - codes - FORMULA_INPUTS.keys()
            )
            if missing:
                raise FormulaUnknownComponentError(component=component.code, names=missing)
        if (
            component.calculation == SalaryComponent.Calculation.PERCENTAGE
            and component.base_component_id is not None
            and component.base_component_id not in by_pk
        ):
            raise FormulaUnknownComponentError(
                component=component.code, names=[component.base_component.code]
            )
    _catalogue_check(components)


# --- components ----------------------------------------------------------------------------

COMPONENT_FIELDS = (
    "code",
    "name",
    "kind",
    "calculation",
    "amount",
    "is_prorated",
    "percentage",
    "base_component",
    "formula",
)


def _component_apply(component: SalaryComponent, data: Mapping[str, Any]) -> None:
    """Set ``data`` on ``component`` and check the fields that belong together; every bad
    field in one ValidationError (400). Formula problems raise the hr.formula_* errors."""
    errors: dict[str, list[str]] = {}
    if "code" in data and not component._state.adding and data["code"] != component.code:
        errors["code"] = ["The code cannot change: formulas and payslips refer to it."]
    for name in COMPONENT_FIELDS:
        if name in data and name not in errors:
            if name == "base_component":
                value = data[name]
                target = (
                    SalaryComponent.objects.filter(pk=value).first() if value is not None else None
                )
                if value is not None and target is None:
                    errors[name] = ["Unknown component."]
                component.base_component = target
            else:
                setattr(component, name, data[name])
    if not re.match(COMPONENT_CODE_PATTERN, component.code or ""):
        errors["code"] = ["Lower-case letters, digits and _, starting with a letter (max 32)."]
    elif component.code in FORMULA_INPUTS:
        errors["code"] = [f"{component.code!r} is an input of formulas; choose another code."]
    calculation = component.calculation
    if calculation == SalaryComponent.Calculation.FIXED:
        if component.amount is None:
            errors["amount"] = ["Required for a fixed component."]
        component.percentage, component.base_component, component.formula = None, None, ""
    elif calculation == SalaryComponent.Calculation.PERCENTAGE:
        if component.percentage is None:
            errors["percentage"] = ["Required for a percentage component."]
        if component.base_component is not None and (component.base_component.pk == component.pk):
            errors["base_component"] = ["A component cannot be a percentage of itself."]
        component.amount, component.formula = None, ""
    elif calculation == SalaryComponent.Calculation.FORMULA:
        if not (component.formula or "").strip():
            errors["formula"] = ["Required for a formula component."]
        component.amount, component.percentage, component.base_component = None, None, None
    if errors:
        raise ValidationError(errors)

    catalogue = selectors.salary_component_codes()
    if calculation == SalaryComponent.Calculation.FORMULA:
        component.formula = component.formula.strip()
        known = set(catalogue) - {component.code}
        _formula_check(code=component.code, formula=component.formula, known=known)
    others = [other for code, other in catalogue.items() if other.pk != component.pk]
    _catalogue_check([*others, component])
    # Structures that hold the component must still resolve every name it uses.
    if component.pk is not None:
        for structure in SalaryStructure.objects.filter(components=component).prefetch_related(
            "components__base_component"
        ):
            members = [c for c in structure.components.all() if c.pk != component.pk]
            _structure_check(components=[*members, component])


def _component_save(component: SalaryComponent) -> SalaryComponent:
    try:
        with transaction.atomic():
            component.save()
    except IntegrityError as error:
        raise NameTakenError(code=component.code) from error
    return component


@transaction.atomic
def salary_component_create(*, actor: Actor, **data: Any) -> SalaryComponent:
    """Fields as in COMPONENT_FIELDS (``base_component`` an id). Raises ValidationError,
    FormulaInvalidError, FormulaUnknownComponentError, FormulaCycleError,
    FormulaDivisionByZeroError (400) and NameTakenError (409) for a taken code."""
    require_perm(actor, "hr.add_salarycomponent")
    component = SalaryComponent(is_prorated=data.pop("is_prorated", True))
    _component_apply(component, data)
    audit_fields(component, actor, created=True)
    return _component_save(component)


@transaction.atomic
def salary_component_update(
    *, actor: Actor, component: SalaryComponent, data: Mapping[str, Any]
) -> SalaryComponent:
    require_perm(actor, "hr.change_salarycomponent")
    _component_apply(component, data)
    audit_fields(component, actor, created=False)
    return _component_save(component)


@transaction.atomic
def salary_component_delete(*, actor: Actor, component: SalaryComponent) -> None:
    """Refused (ComponentInUseError) while a structure holds it, another component is a
    percentage of it or a formula names it."""
    require_perm(actor, "hr.delete_salarycomponent")
    used = component.structures.exists() or component.percentage_dependents.exists()
    if not used:
        for other in SalaryComponent.objects.filter(calculation="formula").exclude(pk=component.pk):
            if component.code in hr_formula.formula_dependencies(other.formula):
                used = True
                break
    if used:
        raise ComponentInUseError(component=component.code)
    component.delete()


# --- structures ----------------------------------------------------------------------------


def _structure_components(component_ids: Iterable[Any]) -> list[SalaryComponent]:
    wanted = set(component_ids)
    components = list(
        SalaryComponent.objects.select_related("base_component").filter(pk__in=wanted)
    )
    if len(components) != len(wanted):
        raise ValidationError({"components": ["Unknown component."]})
    return components


@transaction.atomic
def salary_structure_create(
    *, actor: Actor, name: str, description: str = "", components: Sequence[Any] = ()
) -> SalaryStructure:
    """Raises FormulaUnknownComponentError when a member's formula or percentage needs a
    component that is not in the structure."""
    require_perm(actor, "hr.add_salarystructure")
    members = _structure_components(components)
    _structure_check(components=members)
    structure = SalaryStructure(name=name, description=description)
    audit_fields(structure, actor, created=True)
    try:
        with transaction.atomic():
            structure.save()
    except IntegrityError as error:
        raise NameTakenError(name=name) from error
    structure.components.set(members)
    return structure


@transaction.atomic
def salary_structure_update(
    *, actor: Actor, structure: SalaryStructure, data: Mapping[str, Any]
) -> SalaryStructure:
    require_perm(actor, "hr.change_salarystructure")
    for name in ("name", "description"):
        if name in data:
            setattr(structure, name, data[name])
    members = None
    if "components" in data:
        members = _structure_components(data["components"])
        _structure_check(components=members)
    audit_fields(structure, actor, created=False)
    try:
        with transaction.atomic():
            structure.save()
    except IntegrityError as error:
        raise NameTakenError(name=structure.name) from error
    if members is not None:
        structure.components.set(members)
    return structure


@transaction.atomic
def salary_structure_delete(*, actor: Actor, structure: SalaryStructure) -> None:
    require_perm(actor, "hr.delete_salarystructure")
    if structure.assignments.exists():
        raise StructureInUseError(structure_id=str(structure.pk))
    structure.delete()


# --- assignments ---------------------------------------------------------------------------


def _assignment_apply(assignment: SalaryAssignment, data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    references_apply(
        assignment,
        data,
        {
            "employee": (Employee.objects.all(), "Unknown employee."),
            "structure": (SalaryStructure.objects.all(), "Unknown salary structure."),
        },
        errors,
    )
    for name in ("base_pay", "effective_from"):
        if name in data:
            setattr(assignment, name, data[name])
    if assignment.base_pay is not None and assignment.base_pay < 0:
        errors["base_pay"] = ["Must not be negative."]
    if errors:
        raise ValidationError(errors)


def _assignment_save(assignment: SalaryAssignment) -> SalaryAssignment:
    clash = SalaryAssignment.objects.filter(
        employee_id=assignment.employee_id, effective_from=assignment.effective_from
    ).exclude(pk=assignment.pk)
    if clash.exists():
        raise SalaryAssignmentExistsError(effective_from=assignment.effective_from.isoformat())
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as error:
        raise SalaryAssignmentExistsError(
            effective_from=assignment.effective_from.isoformat()
        ) from error
    return assignment


@transaction.atomic
def salary_assignment_create(
    *, actor: Actor, employee: Any, structure: Any, base_pay: Decimal, effective_from: date
) -> SalaryAssignment:
    """``employee`` and ``structure`` are ids. Raises ValidationError (400) and
    SalaryAssignmentExistsError (409) for a second assignment starting the same day."""
    require_perm(actor, "hr.add_salaryassignment")
    assignment = SalaryAssignment()
    _assignment_apply(
        assignment,
        {
            "employee": employee,
            "structure": structure,
            "base_pay": base_pay,
            "effective_from": effective_from,
        },
    )
    audit_fields(assignment, actor, created=True)
    return _assignment_save(assignment)


@transaction.atomic
def salary_assignment_update(
    *, actor: Actor, assignment: SalaryAssignment, data: Mapping[str, Any]
) -> SalaryAssignment:
    require_perm(actor, "hr.change_salaryassignment")
    _assignment_apply(assignment, data)
    audit_fields(assignment, actor, created=False)
    return _assignment_save(assignment)


@transaction.atomic
def salary_assignment_delete(*, actor: Actor, assignment: SalaryAssignment) -> None:
    require_perm(actor, "hr.delete_salaryassignment")
    assignment.delete()


# --- runs ----------------------------------------------------------------------------------


def period_parse(value: str) -> date:
    """``"2026-03"`` -> date(2026, 3, 1); ValidationError for anything else."""
    try:
        year_text, month_text = value.split("-")
        if len(year_text) != 4 or len(month_text) != 2:
            raise ValueError(value)
        period = date(int(year_text), int(month_text), 1)
    except (ValueError, AttributeError) as error:
        raise ValidationError({"period": ["A month as YYYY-MM, e.g. 2026-03."]}) from error
    if not 2000 <= period.year <= 2100:
        raise ValidationError({"period": ["A month between 2000 and 2100."]})
    return period


def _period_end(period: date) -> date:
    following = date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _job_start(run: PayrollRun, *, actor: Actor) -> None:
    # Imported here: tasks import this module back.
    from apps.hr.tasks import payroll as tasks

    run.job = job_run_start(
        task=tasks.payroll_run_compute,
        kind=JOB_KIND,
        requested_by=actor.user,
        params={"period": f"{run.period:%Y-%m}"},
        label=f"Payroll {run.period:%Y-%m}",
        run_id=str(run.pk),
    )


@transaction.atomic
def payroll_run_start(*, actor: Actor, period: date) -> PayrollRun:
    """Create the run of ``period`` (a first of month) and queue its computation (a job
    with progress). Raises PayrollLockedError (409) when that month is approved already
    and PayrollRunExistsError (409) when it has a run that can still be recomputed."""
    require_perm(actor, selectors.RUN_PAYROLL_PERMISSION)
    existing = selectors.payroll_run_for_period(period=period)
    if existing is not None:
        if existing.is_locked:
            raise PayrollLockedError(period=f"{period:%Y-%m}", run_id=str(existing.pk))
        raise PayrollRunExistsError(period=f"{period:%Y-%m}", run_id=str(existing.pk))
    run = PayrollRun(period=period)
    audit_fields(run, actor, created=True)
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError as error:
        raise PayrollRunExistsError(period=f"{period:%Y-%m}") from error
    _job_start(run, actor=actor)
    run.save(update_fields=["job"])
    return run


def _run_lock(run: PayrollRun) -> PayrollRun:
    return PayrollRun.objects.select_for_update().get(pk=run.pk)


@transaction.atomic
def payroll_run_recompute(*, actor: Actor, run: PayrollRun) -> PayrollRun:
    """Queue a new computation; PayrollLockedError (409) once approved, and
    PayrollComputingError (409) while a computation is queued or running."""
    require_perm(actor, selectors.RUN_PAYROLL_PERMISSION)
    run = _run_lock(run)
    if run.is_locked:
        raise PayrollLockedError(period=f"{run.period:%Y-%m}", run_id=str(run.pk))
    if run.job_id is not None and not run.job.is_finished:
        raise PayrollComputingError(run_id=str(run.pk))
    run.status = PayrollRun.Status.DRAFT
    audit_fields(run, actor, created=False)
    _job_start(run, actor=actor)
    run.save(update_fields=["status", "job", "updated_by", "updated_at"])
    return run


@transaction.atomic
def payroll_run_approve(*, actor: Actor, run: PayrollRun, payslips_url: str = "") -> PayrollRun:
    """Lock the run for good and queue its payslips' PDFs and emails. Raises
    PayrollLockedError when already approved and PayrollNotComputedError unless it is
    computed without errors. ``payslips_url`` (the "my payslips" page) goes into the
    emails."""
    require_perm(actor, selectors.RUN_PAYROLL_PERMISSION)
    run = _run_lock(run)
    if run.is_locked:
        raise PayrollLockedError(period=f"{run.period:%Y-%m}", run_id=str(run.pk))
    if run.status != PayrollRun.Status.COMPUTED or run.error_count:
        raise PayrollNotComputedError(status=run.status, error_count=run.error_count)
    run.status = PayrollRun.Status.APPROVED
    run.approved_by = actor.user
    run.approved_at = timezone.now()
    audit_fields(run, actor, created=False)
    run.save(update_fields=["status", "approved_by", "approved_at", "updated_by", "updated_at"])
    from apps.hr.tasks import payroll as tasks

    enqueue(tasks.payroll_run_payslips_issue, run_id=str(run.pk), payslips_url=payslips_url)
    return run


# --- computation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Period:
    start: date
    end: date
    days: tuple[date, ...]
    weekend: frozenset[int]
    holidays: frozenset[date]
    working: frozenset[date]
    country: str
    subdivision: str | None

    @property
    def working_count(self) -> int:
        return len(self.working)

    def working_between(self, first: date, last: date) -> int:
        return sum(1 for day in self.days if first <= day <= last and day in self.working)


def _period_build(*, period: date, policy: HrPolicy, tenant_holidays: set[date]) -> _Period:
    end = _period_end(period)
    days = tuple(period + timedelta(days=offset) for offset in range((end - period).days + 1))
    subdivision = policy.holiday_subdivision or None
    try:
        public = hr_calendar.public_holidays(
            country=policy.holiday_country, subdivision=subdivision, year=period.year
        )
    except hr_calendar.UnknownCountryError as error:
        raise HolidayCalendarUnknownError(country=policy.holiday_country) from error
    holidays = frozenset(day for day in days if day in public) | frozenset(tenant_holidays)
    weekend = frozenset(policy.weekend_days or [])
    working = frozenset(day for day in days if day.weekday() not in weekend and day not in holidays)
    # A policy whose every day is off would divide by zero: fall back to calendar days.
    return _Period(
        start=period,
        end=end,
        days=days,
        weekend=weekend,
        holidays=holidays,
        working=working or frozenset(days),
        country=policy.holiday_country,
        subdivision=subdivision,
    )


@dataclass
class _Line:
    code: str
    label: str
    kind: str
    amount: Decimal  # rounded
    explanation: str


@dataclass
class _Result:
    employee: Employee
    structure_name: str = ""
    base_pay: Decimal = Decimal(0)
    working_days: int = 0
    employed_days: int = 0
    unpaid_leave_days: Decimal = Decimal(0)
    absent_days: int = 0
    overtime_hours: Decimal = Decimal(0)
    lines: list[_Line] = field(default_factory=list)
    error_code: str = ""
    error_message: str = ""

    @property
    def gross(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == "earning"), Decimal(0))

    @property
    def deductions(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == "deduction"), Decimal(0))


_FORMULA_ERROR_CODES: dict[type[hr_formula.FormulaError], str] = {
    hr_formula.FormulaDivisionByZeroError: FormulaDivisionByZeroError.code,
    hr_formula.UnknownComponentError: FormulaUnknownComponentError.code,
    hr_formula.FormulaCycleError: FormulaCycleError.code,
    hr_formula.FormulaSyntaxError: FormulaInvalidError.code,
    hr_formula.FormulaOverflowError: "hr.formula_overflow",
}


def _segments(
    spans: Sequence[selectors.AssignmentSpan], first: date, last: date
) -> list[tuple[selectors.AssignmentSpan, date, date]]:
    """The assignments in effect between ``first`` and ``last``, each with its days."""
    segments = []
    for index, span in enumerate(spans):
        following = spans[index + 1].effective_from if index + 1 < len(spans) else None
        start = max(first, span.effective_from)
        end = last if following is None else min(last, following - timedelta(days=1))
        if start <= end:
            segments.append((span, start, end))
    return segments


def _leave_dates(span: selectors.LeaveSpan, first: date, last: date) -> set[date]:
    start, end = max(first, span.starts_on), min(last, span.ends_on)
    return {start + timedelta(days=offset) for offset in range((end - start).days + 1)}


def _rostered(roster: Sequence[selectors.RosterSpan], day: date) -> bool:
    # The later valid_from wins where two assignments of the roster overlap.
    for span in reversed(roster):
        if span.valid_from <= day and (span.valid_to is None or span.valid_to >= day):
            return day.weekday() in span.weekdays
    return False


def _employee_compute(
    employee: Employee,
    *,
    inputs: selectors.PayrollInputs,
    period: _Period,
    today: date,
) -> _Result | None:
    """One employee's payslip; None when nothing of the month is payable to them."""
    first = max(period.start, employee.employment_start)
    last = min(period.end, employee.employment_end or period.end)
    segments = _segments(inputs.assignments.get(employee.pk, []), first, last)
    if not segments:
        return None
    pay_start = segments[0][1]
    current, _, _ = segments[-1]
    structure = inputs.structures[current.structure_id]
    policy = inputs.policy
    total_working = period.working_count
    result = _Result(employee=employee, structure_name=structure.name)

    # Base pay, prorated by working days across joining, leaving and pay changes.
    base = Decimal(0)
    parts = []
    employed = 0
    for span, start, end in segments:
        days = period.working_between(start, end)
        employed += days
        base += prorate(span.base_pay, days_worked=days, days_in_period=total_working)
        parts.append((span, start, days))
    monthly_base = current.base_pay
    if len(parts) == 1 and employed == total_working:
        base_text = (
            f"{_amount_text(monthly_base)} a month, full month ({total_working} working days)"
        )
    elif len(parts) == 1:
        base_text = f"{_amount_text(monthly_base)} × {employed}/{total_working} working days"
    else:
        base_text = "; ".join(
            f"{_amount_text(span.base_pay)} × {days}/{total_working} working days "
            f"from {start.isoformat()}"
            for span, start, days in parts
        )
    reasons = []
    if employee.employment_start > period.start:
        reasons.append(f"joined {employee.employment_start.isoformat()}")
    elif pay_start > period.start:
        reasons.append(f"paid from {pay_start.isoformat()}")
    if employee.employment_end is not None and employee.employment_end < period.end:
        reasons.append(f"left {employee.employment_end.isoformat()}")
    if reasons and employed != total_working:
        base_text += f" ({', '.join(reasons)})"

    daily_rate = base_rate = monthly_base / total_working
    hourly_rate = daily_rate / policy.standard_day_hours

    # Unpaid leave, in working days of the leave calendar; all leave days excuse absence.
    unpaid_days = Decimal(0)
    leave_dates: set[date] = set()
    for span in inputs.leave.get(employee.pk, []):
        start, end = max(pay_start, span.starts_on), min(last, span.ends_on)
        if start > end:
            continue
        leave_dates |= _leave_dates(span, start, end)
        if span.is_paid:
            continue
        unpaid_days += hr_calendar.leave_days(
            start=start,
            end=end,
            start_half=span.start_half and start == span.starts_on,
            end_half=span.end_half and end == span.ends_on,
            country=period.country,
            subdivision=period.subdivision,
            extra_holidays=inputs.tenant_holidays,
            weekend=period.weekend or (),
        )

    # Absences: rostered, not a holiday, no leave, no attendance, before today.
    roster = inputs.roster.get(employee.pk, [])
    present = inputs.presence.get(employee.pk, set())
    absent = 0
    if roster:
        last_counted = min(last, today - timedelta(days=1))
        for day in period.days:
            if (
                pay_start <= day <= last_counted
                and day not in period.holidays
                and day not in leave_dates
                and day not in present
                and _rostered(roster, day)
            ):
                absent += 1

    overtime_hours = Decimal(inputs.overtime_minutes.get(employee.pk, 0)) / 60

    result.base_pay = money(monthly_base)
    result.working_days = total_working
    result.employed_days = employed
    result.unpaid_leave_days = unpaid_days
    result.absent_days = absent
    result.overtime_hours = overtime_hours

    values: dict[str, Decimal] = {
        "base": base,
        "monthly_base": monthly_base,
        "days_in_period": Decimal(len(period.days)),
        "working_days": Decimal(total_working),
        "employed_days": Decimal(employed),
        "days_payable": max(Decimal(0), employed - unpaid_days - absent),
        "unpaid_leave_days": unpaid_days,
        "absent_days": Decimal(absent),
        "overtime_hours": overtime_hours,
        "daily_rate": daily_rate,
        "hourly_rate": hourly_rate,
    }

    components = list(structure.components.all())
    by_pk = {component.pk: component for component in components}
    formulas: dict[str, str] = {}
    explanations: dict[str, str] = {}
    for component in components:
        if component.calculation == SalaryComponent.Calculation.FIXED:
            amount = component.amount
            if component.is_prorated and employed != total_working:
                values[component.code] = prorate(
                    amount, days_worked=employed, days_in_period=total_working
                )
                explanations[component.code] = (
                    f"{_amount_text(amount)} × {employed}/{total_working} working days"
                )
            else:
                values[component.code] = Decimal(amount)
                explanations[component.code] = f"{_amount_text(amount)} fixed"
        else:
            base_component = by_pk.get(component.base_component_id)
            base_code = (
                base_component.code
                if base_component is not None
                else (component.base_component.code if component.base_component_id else None)
            )
            formulas[component.code] = _formula_of(component, base_code) or ""
    try:
        values = hr_formula.evaluate_all(formulas, values)
    except hr_formula.FormulaError as error:
        code = _FORMULA_ERROR_CODES.get(type(error), FormulaInvalidError.code)
        where = f"component {error.component}: " if error.component else ""
        result.error_code = code
        result.error_message = f"{where}{error}"[:500]
        return result
    for component in components:
        value = values[component.code]
        if component.calculation == SalaryComponent.Calculation.PERCENTAGE:
            base_component = by_pk.get(component.base_component_id)
            of = (
                f"{base_component.name} ({_amount_text(values[base_component.code])})"
                if base_component is not None
                else f"base pay earned ({_amount_text(base)})"
            )
            explanations[component.code] = f"{_number_text(component.percentage)}% of {of}"
        elif component.calculation == SalaryComponent.Calculation.FORMULA:
            names = sorted(hr_formula.formula_dependencies(component.formula))
            given = ", ".join(f"{name} = {_number_text(values[name])}" for name in names)
            explanations[component.code] = (
                f"{component.formula} = {_amount_text(value)}" + (f" with {given}" if given else "")
            )[:500]

    earnings = [c for c in components if c.kind == SalaryComponent.Kind.EARNING]
    deductions = [c for c in components if c.kind == SalaryComponent.Kind.DEDUCTION]
    lines = result.lines
    lines.append(_Line("base", "Base pay", "earning", money(base), base_text))
    for component in earnings:
        lines.append(
            _Line(
                component.code,
                component.name,
                "earning",
                money(values[component.code]),
                explanations[component.code],
            )
        )
    if overtime_hours:
        overtime_pay = overtime_hours * hourly_rate * policy.overtime_multiplier
        lines.append(
            _Line(
                "overtime",
                "Overtime",
                "earning",
                money(overtime_pay),
                f"{_number_text(overtime_hours)} h × {_amount_text(hourly_rate)} hourly rate "
                f"× {_number_text(policy.overtime_multiplier)}",
            )
        )
    # Unpaid time never takes more than the base pay earned.
    room = base
    if unpaid_days:
        amount = min(room, base_rate * unpaid_days)
        room -= amount
        lines.append(
            _Line(
                "unpaid_leave",
                "Unpaid leave",
                "deduction",
                money(amount),
                f"{_amount_text(monthly_base)} / {total_working} working days × "
                f"{_number_text(unpaid_days)} days of unpaid leave",
            )
        )
    if absent:
        amount = min(room, base_rate * absent)
        lines.append(
            _Line(
                "absence",
                "Absence",
                "deduction",
                money(amount),
                f"{_amount_text(monthly_base)} / {total_working} working days × "
                f"{absent} days absent without leave",
            )
        )
    for component in deductions:
        lines.append(
            _Line(
                component.code,
                component.name,
                "deduction",
                money(values[component.code]),
                explanations[component.code],
            )
        )
    return result


def payroll_compute(
    *, period: date, today: date | None = None, on_progress: Callable[[int], None] | None = None
) -> tuple[list[_Result], str]:
    """Every in-scope employee's payslip figures for the month of ``period``, computed in
    memory from bulk-loaded inputs (a fixed number of queries), and the policy's currency.
    ``on_progress(percent)`` is called at most once per ten percent."""
    end = _period_end(period)
    inputs = selectors.payroll_inputs_load(period_start=period, period_end=end)
    month = _period_build(
        period=period, policy=inputs.policy, tenant_holidays=inputs.tenant_holidays
    )
    today = today or timezone.localdate()
    results: list[_Result] = []
    total = len(inputs.employees)
    last_percent = -1
    for index, employee in enumerate(inputs.employees):
        result = _employee_compute(employee, inputs=inputs, period=month, today=today)
        if result is not None:
            results.append(result)
        percent = (index + 1) * 90 // total // 10 * 10
        if on_progress is not None and percent != last_percent:
            last_percent = percent
            on_progress(percent)
    return results, inputs.policy.currency


def _sql_table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _payslips_write(run: PayrollRun, results: Sequence[_Result], now: Any) -> dict[Any, Any]:
    """Upsert the run's payslips in one statement (ids survive a recompute: the unique
    (run, employee) row is updated in place), returning employee id -> payslip id."""
    columns: dict[str, tuple[str, list[Any]]] = {
        "id": ("uuid", [uuid.uuid4() for _ in results]),
        "employee_id": ("uuid", [result.employee.pk for result in results]),
        "structure_name": ("text", [result.structure_name for result in results]),
        "base_pay": ("numeric", [result.base_pay for result in results]),
        "working_days": ("int", [result.working_days for result in results]),
        "employed_days": ("int", [result.employed_days for result in results]),
        "unpaid_leave_days": ("numeric", [result.unpaid_leave_days for result in results]),
        "absent_days": ("int", [result.absent_days for result in results]),
        "overtime_hours": ("numeric", [result.overtime_hours for result in results]),
        "gross": ("numeric", [result.gross for result in results]),
        "deductions": ("numeric", [result.deductions for result in results]),
        "net": ("numeric", [result.gross - result.deductions for result in results]),
        "error_code": ("text", [result.error_code for result in results]),
        "error_message": ("text", [result.error_message for result in results]),
    }
    names = list(columns)
    unnest = ", ".join(f"%s::{kind}[]" for kind, _ in columns.values())
    updated = [name for name in names if name not in {"id", "employee_id"}]
    days_in_period = _period_end(run.period).day
    sql = f"""
        INSERT INTO {_sql_table(Payslip)} (
            {", ".join(names)}, created_at, updated_at, run_id, generation, days_in_period,
            pdf
        )
        SELECT {", ".join(f"u.{name}" for name in names)}, %s, %s, %s, %s, %s, ''
        FROM unnest({unnest}) AS u({", ".join(names)})
        ON CONFLICT (run_id, employee_id) DO UPDATE SET
            {", ".join(f"{name} = EXCLUDED.{name}" for name in updated)},
            updated_at = EXCLUDED.updated_at,
            generation = EXCLUDED.generation,
            days_in_period = EXCLUDED.days_in_period
        RETURNING employee_id, id
    """  # noqa: S608 - identifiers from model metadata and the fixed list above
    # The SELECT list's placeholders come before unnest's.
    params: list[Any] = [now, now, run.pk, run.generation, days_in_period]
    params += [values for _, values in columns.values()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _lines_write(results: Sequence[_Result], payslip_ids: Mapping[Any, Any]) -> int:
    payslip_column: list[Any] = []
    position: list[int] = []
    code: list[str] = []
    label: list[str] = []
    kind: list[str] = []
    amount: list[Decimal] = []
    explanation: list[str] = []
    for result in results:
        payslip_id = payslip_ids[result.employee.pk]
        for index, line in enumerate(result.lines, 1):
            payslip_column.append(payslip_id)
            position.append(index)
            code.append(line.code)
            label.append(line.label[:120])
            kind.append(line.kind)
            amount.append(line.amount)
            explanation.append(line.explanation[:500])
    if not payslip_column:
        return 0
    sql = f"""
        INSERT INTO {_sql_table(PayslipLine)}
            (payslip_id, position, code, label, kind, amount, explanation)
        SELECT * FROM unnest(
            %s::uuid[], %s::int[], %s::text[], %s::text[], %s::text[], %s::numeric[], %s::text[]
        )
    """  # noqa: S608 - identifiers from model metadata
    with connection.cursor() as cursor:
        cursor.execute(sql, [payslip_column, position, code, label, kind, amount, explanation])
    return len(payslip_column)


def _run_lines_delete(run: PayrollRun) -> None:
    # Plain DELETEs: the ORM's delete() collects rows first and deletes them a hundred
    # ids at a time, which would make the query count grow with the run's size.
    sql = f"""
        DELETE FROM {_sql_table(PayslipLine)} WHERE payslip_id IN (
            SELECT id FROM {_sql_table(Payslip)} WHERE run_id = %s
        )
    """  # noqa: S608 - identifiers from model metadata
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk])


def _stale_payslips_delete(run: PayrollRun) -> None:
    """Payslips of employees the latest computation no longer paid (their lines are gone
    already, with every line of the run)."""
    sql = f"DELETE FROM {_sql_table(Payslip)} WHERE run_id = %s AND generation <> %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk, run.generation])


def _run_fail(run_id: Any, *, code: str, message: str) -> None:
    PayrollRun.objects.filter(pk=run_id).exclude(status=PayrollRun.Status.APPROVED).update(
        status=PayrollRun.Status.FAILED,
        error_code=code,
        error_message=message[:500],
        updated_at=timezone.now(),
    )


def payroll_run_compute(
    *,
    run_id: Any,
    today: date | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PayrollRun | None:
    """Compute (or recompute) the run's payslips and lines; what the job runs.

    Reads and arithmetic happen outside any transaction (progress commits as it goes);
    the writes happen in one transaction holding the run's row lock, so a concurrent
    approval either comes first (PayrollLockedError, nothing written) or waits. Payslips
    keep their ids across recomputes, their lines are replaced, and payslips of employees
    no longer in scope are removed. Returns None when the run is gone. Any other failure
    marks the run ``failed`` with a code and re-raises.
    """
    run = PayrollRun.objects.filter(pk=run_id).first()
    if run is None:
        return None
    if run.is_locked:
        raise PayrollLockedError(period=f"{run.period:%Y-%m}", run_id=str(run.pk))
    PayrollRun.objects.filter(pk=run.pk).exclude(status=PayrollRun.Status.APPROVED).update(
        status=PayrollRun.Status.COMPUTING, error_code="", error_message=""
    )
    try:
        results, currency = payroll_compute(period=run.period, today=today, on_progress=on_progress)
        with transaction.atomic():
            run = _run_lock(run)
            if run.is_locked:
                raise PayrollLockedError(period=f"{run.period:%Y-%m}", run_id=str(run.pk))
            now = timezone.now()
            run.generation += 1
            _run_lines_delete(run)
            payslip_ids = _payslips_write(run, results, now)
            _lines_write(results, payslip_ids)
            _stale_payslips_delete(run)
            totals = Payslip.objects.filter(run=run).aggregate(
                gross=Sum("gross", default=Decimal(0)),
                deductions=Sum("deductions", default=Decimal(0)),
                net=Sum("net", default=Decimal(0)),
            )
            run.status = PayrollRun.Status.COMPUTED
            run.employee_count = len(results)
            run.error_count = sum(1 for result in results if result.error_code)
            run.gross_total = totals["gross"]
            run.deduction_total = totals["deductions"]
            run.net_total = totals["net"]
            run.currency = currency
            run.computed_at = now
            run.error_code = run.error_message = ""
            run.save()
    except PayrollLockedError:
        raise
    except HolidayCalendarUnknownError as error:
        _run_fail(run_id, code=error.code, message=error.message)
        raise
    except Exception:
        # The run must not stay "computing"; the traceback goes to the task's log, and the
        # message users see says nothing of the internals.
        _run_fail(
            run_id,
            code="internal_error",
            message="An unexpected error stopped the computation; the server log has details.",
        )
        raise
    logger.info(
        "Payroll %s: %d payslips, %d errors", run.period, run.employee_count, run.error_count
    )
    return run


# --- payslip documents ---------------------------------------------------------------------


def _payslip_pdf_bytes(payslip: Payslip) -> bytes:
    # apps.reports.pdf is the platform's small PDF helper (fpdf2, Latin-1 fonts).
    from apps.reports.pdf import SummaryDocument

    run = payslip.run
    employee = payslip.employee
    currency = run.currency
    document = SummaryDocument(title=f"Payslip {run.period:%B %Y}")
    document.facts(
        [
            ("Employee", f"{employee.full_name} ({employee.employee_number})"),
            ("Period", f"{run.period:%Y-%m-%d} to {_period_end(run.period):%Y-%m-%d}"),
            ("Structure", payslip.structure_name),
            ("Monthly base pay", f"{payslip.base_pay:,.2f} {currency}"),
            ("Working days", f"{payslip.employed_days} of {payslip.working_days}"),
            ("Unpaid leave days", _number_text(payslip.unpaid_leave_days)),
            ("Absent days", payslip.absent_days),
            ("Overtime hours", _number_text(payslip.overtime_hours)),
        ]
    )
    document.heading("Lines")
    rows = [
        (
            line.label,
            f"{line.amount:,.2f}" if line.kind == "earning" else "",
            f"{line.amount:,.2f}" if line.kind == "deduction" else "",
            line.explanation,
        )
        for line in payslip.lines.order_by("position")
    ]
    document.table(columns=["Item", "Earning", "Deduction", "How"], rows=rows)
    document.facts(
        [
            ("Gross", f"{payslip.gross:,.2f} {currency}"),
            ("Deductions", f"{payslip.deductions:,.2f} {currency}"),
            ("Net pay", f"{payslip.net:,.2f} {currency}"),
        ]
    )
    return bytes(document.pdf.output())


def payslip_pdf_generate(*, payslip_id: Any) -> Payslip | None:
    """Write the payslip's PDF into the tenant's storage once the run is approved.

    Idempotent: a payslip that has its file already is returned unchanged; None when the
    payslip is gone or its run is not approved (an unapproved payslip can still change).
    """
    payslip = Payslip.objects.select_related("run", "employee").filter(pk=payslip_id).first()
    if payslip is None or not payslip.run.is_locked or payslip.error_code:
        return None
    if payslip.pdf and default_storage.exists(payslip.pdf.name):
        return payslip
    content = _payslip_pdf_bytes(payslip)
    name = f"hr/payslips/{payslip.run.period:%Y-%m}/{payslip.pk}.pdf"
    if default_storage.exists(name):
        default_storage.delete(name)  # a leftover of an interrupted attempt
    stored = default_storage.save(name, ContentFile(content))
    now = timezone.now()
    Payslip.objects.filter(pk=payslip.pk).update(pdf=stored, pdf_generated_at=now)
    payslip.pdf.name = stored
    payslip.pdf_generated_at = now
    return payslip


def _payslip_template_ensure() -> None:
    """A default email for PAYSLIP_EVENT, created once; tenants may edit or switch it
    off like any notification template (apps.notifications has no service for this)."""
    from apps.notifications.models import Channel, NotificationTemplate

    NotificationTemplate.objects.get_or_create(
        event=PAYSLIP_EVENT,
        channel=Channel.EMAIL,
        defaults={
            "subject": "Your payslip for {{ period }}",
            "body": (
                "Hello {{ recipient.first_name|default:recipient.username }},\n\n"
                "Your payslip for {{ period }} is ready: net pay {{ net }} {{ currency }}.\n"
                "Sign in to download it: {{ payslips_url }}\n"
            ),
        },
    )


def payslip_email(*, payslip_id: Any, payslips_url: str = "") -> Payslip | None:
    """Email the employee that their payslip is ready, with a link to "my payslips".

    The notification providers send no attachments, so the PDF is not attached: the
    link needs the employee to sign in, and the page serves only their own payslips.
    Idempotent (the delivery's dedupe key and ``emailed_at``). Employees without a user
    account cannot be notified and are skipped.
    """
    from apps.notifications.services import Recipient, notify

    payslip = (
        Payslip.objects.select_related("run", "employee", "employee__user")
        .filter(pk=payslip_id)
        .first()
    )
    if payslip is None or not payslip.run.is_locked or payslip.emailed_at is not None:
        return payslip
    user = payslip.employee.user
    if user is None:
        return payslip
    _payslip_template_ensure()
    notify(
        event=PAYSLIP_EVENT,
        recipients=[Recipient(user=user, email=payslip.employee.email or None)],
        context={
            "period": f"{payslip.run.period:%B %Y}",
            "net": f"{payslip.net:,.2f}",
            "currency": payslip.run.currency,
            "payslips_url": payslips_url,
        },
        channels=["email"],
        dedupe_key=f"hr.payslip:{payslip.pk}",
    )
    now = timezone.now()
    Payslip.objects.filter(pk=payslip.pk).update(emailed_at=now)
    payslip.emailed_at = now
    return payslip


def payroll_run_payslips_issue(
    *, run_id: Any, payslips_url: str = "", on_progress: Callable[[int], None] | None = None
) -> int:
    """Generate the PDFs and send the emails of an approved run's payslips; those done
    already are skipped, so running it twice does nothing the second time. Returns how
    many payslips it touched."""
    run = PayrollRun.objects.filter(pk=run_id).first()
    if run is None or not run.is_locked:
        return 0
    payslip_ids = selectors.payslip_ids_to_issue(run=run)
    for index, payslip_id in enumerate(payslip_ids, 1):
        with transaction.atomic():
            payslip_pdf_generate(payslip_id=payslip_id)
            payslip_email(payslip_id=payslip_id, payslips_url=payslips_url)
        if on_progress is not None:
            on_progress(index * 100 // len(payslip_ids))
    return len(payslip_ids)
