"""HR payroll services: components and formulas, the month's computation (proration,
unpaid leave, absences, overtime), reconciliation to the cent, recompute and approval,
payslip documents and who sees which payslip.

March 2026 under the default policy (GB, Saturday and Sunday off) has 31 days and 22
working days, none of them a public holiday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.errors import NotFoundError
from apps.hr.errors import (
    FormulaCycleError,
    FormulaDivisionByZeroError,
    FormulaInvalidError,
    FormulaUnknownComponentError,
    PayrollLockedError,
    PayrollNotComputedError,
    PayrollRunExistsError,
)
from apps.hr.models import (
    AttendanceRecord,
    LeaveRequest,
    LeaveType,
    PayrollRun,
    Payslip,
    PayslipLine,
    SalaryAssignment,
    SalaryComponent,
    SalaryStructure,
    ShiftAssignment,
    ShiftTemplate,
)
from apps.hr.selectors import payroll as selectors
from apps.hr.services import payroll as services
from apps.hr.tests.conftest import actor_of
from tests.fixtures import persona
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
AFTER_MARCH = date(2026, 4, 15)


def _structure(name: str, *components: SalaryComponent) -> SalaryStructure:
    structure = SalaryStructure.objects.create(name=name)
    structure.components.set(components)
    return structure


def _assign(employee, structure, base_pay: str, effective_from: date = date(2025, 1, 1)):
    return SalaryAssignment.objects.create(
        employee=employee,
        structure=structure,
        base_pay=Decimal(base_pay),
        effective_from=effective_from,
    )


def _compute(period: date = MARCH) -> PayrollRun:
    run, _ = PayrollRun.objects.get_or_create(period=period)
    return services.payroll_run_compute(run_id=run.pk, today=AFTER_MARCH)


def _lines(payslip: Payslip) -> list[tuple[str, str, Decimal]]:
    return list(payslip.lines.order_by("position").values_list("code", "kind", "amount"))


def _working_days_of_march() -> list[date]:
    return [
        MARCH + timedelta(days=offset)
        for offset in range(31)
        if (MARCH + timedelta(days=offset)).weekday() < 5
    ]


def _attend(employee, days, *, overtime_minutes: int = 0) -> None:
    records = []
    for day in days:
        start = datetime.combine(day, time(9), tzinfo=UTC)
        records.append(
            AttendanceRecord(
                employee=employee,
                work_date=day,
                state=AttendanceRecord.State.CLOSED,
                check_in_at=start,
                punched_in_at=start,
                check_out_at=start + timedelta(hours=8),
                punched_out_at=start + timedelta(hours=8),
                worked_minutes=480,
                overtime_minutes=overtime_minutes,
            )
        )
    AttendanceRecord.objects.bulk_create(records)


def _roster(employee) -> None:
    shift = ShiftTemplate.objects.get_or_create(
        name="Day", defaults={"start_time": time(9), "end_time": time(17)}
    )[0]
    ShiftAssignment.objects.create(
        employee=employee, shift=shift, weekdays=[0, 1, 2, 3, 4], valid_from=date(2026, 1, 1)
    )


def _leave(employee, starts_on: date, ends_on: date, *, paid: bool, days: str) -> LeaveRequest:
    leave_type = LeaveType.objects.get_or_create(
        code="unpaid" if not paid else "annual",
        defaults={"name": "Unpaid" if not paid else "Annual", "is_paid": paid},
    )[0]
    return LeaveRequest.objects.create(
        employee=employee,
        leave_type=leave_type,
        starts_on=starts_on,
        ends_on=ends_on,
        days=Decimal(days),
        status=LeaveRequest.Status.APPROVED,
    )


# --- components ----------------------------------------------------------------------------


def test_fixed_percentage_and_formula_components_make_the_lines(admin_actor, make_employee):
    housing = services.salary_component_create(
        actor=admin_actor,
        code="housing",
        name="Housing",
        kind="earning",
        calculation="fixed",
        amount=Decimal("500.00"),
    )
    bonus = services.salary_component_create(
        actor=admin_actor,
        code="bonus",
        name="Bonus",
        kind="earning",
        calculation="formula",
        formula="min(base * 0.1, 250)",
    )
    pension = services.salary_component_create(
        actor=admin_actor,
        code="pension",
        name="Pension",
        kind="deduction",
        calculation="percentage",
        percentage=Decimal("5"),
        base_component=housing.pk,
    )
    employee = make_employee("P-1")
    _assign(employee, _structure("Standard", housing, bonus, pension), "3000.00")

    run = _compute()

    payslip = Payslip.objects.get(run=run, employee=employee)
    assert _lines(payslip) == [
        ("base", "earning", Decimal("3000.00")),
        ("bonus", "earning", Decimal("250.00")),
        ("housing", "earning", Decimal("500.00")),
        ("pension", "deduction", Decimal("25.00")),
    ]
    assert (payslip.gross, payslip.deductions, payslip.net) == (
        Decimal("3750.00"),
        Decimal("25.00"),
        Decimal("3725.00"),
    )
    explanations = dict(payslip.lines.values_list("code", "explanation"))
    assert explanations["base"] == "3,000.00 a month, full month (22 working days)"
    assert explanations["pension"] == "5% of Housing (500.00)"
    assert explanations["bonus"] == "min(base * 0.1, 250) = 250.00 with base = 3000"


def test_joiner_is_paid_their_share_of_working_days(make_employee):
    employee = make_employee("P-2", employment_start=date(2026, 3, 16))
    fixed = SalaryComponent.objects.create(
        code="meal", name="Meal", kind="earning", calculation="fixed", amount=Decimal("110")
    )
    _assign(employee, _structure("Joiners", fixed), "2200.00", date(2026, 3, 16))

    run = _compute()

    payslip = Payslip.objects.get(run=run, employee=employee)
    assert _lines(payslip) == [
        ("base", "earning", Decimal("1200.00")),
        ("meal", "earning", Decimal("60.00")),
    ]
    base_line = payslip.lines.get(code="base")
    assert base_line.explanation == "2,200.00 × 12/22 working days (joined 2026-03-16)"
    assert payslip.employed_days == 12


def test_leaver_is_paid_up_to_their_last_day(make_employee):
    employee = make_employee("P-3", employment_end=date(2026, 3, 10))
    _assign(employee, _structure("Leavers"), "2200.00")

    run = _compute()

    base_line = Payslip.objects.get(run=run, employee=employee).lines.get(code="base")
    assert base_line.amount == Decimal("700.00")
    assert base_line.explanation == "2,200.00 × 7/22 working days (left 2026-03-10)"


def test_mid_month_pay_change_is_prorated_across_both_parts(make_employee):
    employee = make_employee("P-4")
    structure = _structure("Change")
    _assign(employee, structure, "2200.00")
    _assign(employee, structure, "4400.00", date(2026, 3, 16))

    run = _compute()

    base_line = Payslip.objects.get(run=run, employee=employee).lines.get(code="base")
    # 10 working days at 2,200 and 12 at 4,400: 1,000 + 2,400.
    assert base_line.amount == Decimal("3400.00")


def test_unpaid_leave_is_deducted_and_paid_leave_is_not(make_employee):
    employee = make_employee("P-5")
    _assign(employee, _structure("Leave"), "2200.00")
    _leave(employee, date(2026, 3, 9), date(2026, 3, 10), paid=False, days="2")
    _leave(employee, date(2026, 3, 23), date(2026, 3, 24), paid=True, days="2")

    run = _compute()

    payslip = Payslip.objects.get(run=run, employee=employee)
    assert _lines(payslip) == [
        ("base", "earning", Decimal("2200.00")),
        ("unpaid_leave", "deduction", Decimal("200.00")),
    ]
    assert payslip.unpaid_leave_days == Decimal("2")
    assert payslip.net == Decimal("2000.00")


def test_rostered_days_without_attendance_or_leave_are_absences(make_employee):
    employee = make_employee("P-6")
    _assign(employee, _structure("Absences"), "2200.00")
    _roster(employee)
    days = _working_days_of_march()
    # Absent on the 2nd and 3rd; on leave (paid) on the 4th; present on every other day.
    _leave(employee, date(2026, 3, 4), date(2026, 3, 4), paid=True, days="1")
    _attend(employee, [day for day in days if day.day not in (2, 3, 4)])

    run = _compute()

    payslip = Payslip.objects.get(run=run, employee=employee)
    assert payslip.absent_days == 2
    absence = payslip.lines.get(code="absence")
    assert absence.amount == Decimal("200.00")
    assert absence.explanation == ("2,200.00 / 22 working days × 2 days absent without leave")


def test_overtime_is_paid_at_the_hourly_rate_times_the_multiplier(make_employee):
    employee = make_employee("P-7")
    _assign(employee, _structure("Overtime"), "2200.00")
    _attend(employee, [date(2026, 3, 2)], overtime_minutes=90)

    run = _compute()

    overtime = Payslip.objects.get(run=run, employee=employee).lines.get(code="overtime")
    # 2,200 / 22 / 8 = 12.50 an hour; 1.5 h × 12.50 × 1.5 = 28.125 -> 28.13 (half up).
    assert overtime.amount == Decimal("28.13")
    assert overtime.explanation == "1.5 h × 12.50 hourly rate × 1.5"


def test_run_totals_equal_the_payslips_and_their_lines_to_the_cent(make_employee):
    third = SalaryComponent.objects.create(
        code="third", name="Third", kind="earning", calculation="formula", formula="base / 3"
    )
    levy = SalaryComponent.objects.create(
        code="levy",
        name="Levy",
        kind="deduction",
        calculation="percentage",
        percentage=Decimal("33.3333"),
        base_component=third,
    )
    structure = _structure("Awkward", third, levy)
    starts = [date(2026, 3, day) for day in (2, 5, 11, 17, 20, 26, 31)]
    for index, start in enumerate(starts):
        employee = make_employee(f"R-{index}", employment_start=start)
        _assign(employee, structure, ["1000.00", "333.33", "1234.57", "999.99"][index % 4])
        _attend(employee, [start], overtime_minutes=7 * (index + 1))

    run = _compute()

    payslips = Payslip.objects.filter(run=run)
    lines = PayslipLine.objects.filter(payslip__run=run)
    earned = sum(lines.filter(kind="earning").values_list("amount", flat=True))
    deducted = sum(lines.filter(kind="deduction").values_list("amount", flat=True))
    assert run.employee_count == len(starts) == payslips.count()
    assert run.gross_total == sum(p.gross for p in payslips) == earned
    assert run.deduction_total == sum(p.deductions for p in payslips) == deducted
    assert run.net_total == sum(p.net for p in payslips) == earned - deducted
    for payslip in payslips:
        own = payslip.lines.all()
        assert payslip.gross == sum(line.amount for line in own if line.kind == "earning")
        assert payslip.deductions == sum(line.amount for line in own if line.kind == "deduction")
        assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in own)


def test_recompute_keeps_payslip_ids_and_never_duplicates(make_employee):
    structure = _structure("Stable")
    staying = make_employee("S-1")
    going = make_employee("S-2")
    _assign(staying, structure, "1000.00")
    leaving_assignment = _assign(going, structure, "1000.00")
    first = _compute()
    ids_before = set(Payslip.objects.filter(run=first).values_list("pk", flat=True))

    second = _compute()
    ids_again = set(Payslip.objects.filter(run=second).values_list("pk", flat=True))
    leaving_assignment.delete()
    third = _compute()

    assert ids_again == ids_before
    assert set(Payslip.objects.filter(run=third).values_list("employee", flat=True)) == {staying.pk}
    kept = Payslip.objects.get(run=third)
    assert kept.pk in ids_before
    assert kept.lines.count() == 1
    assert third.employee_count == 1
    assert third.net_total == Decimal("1000.00")


def test_approved_run_is_locked_and_refusals_change_nothing(admin_actor, make_employee):
    employee = make_employee("L-1")
    _assign(employee, _structure("Locked"), "1000.00")
    run = services.payroll_run_approve(actor=admin_actor, run=_compute())
    snapshot = list(PayslipLine.objects.values_list("pk", "amount"))
    _assign(employee, SalaryStructure.objects.get(name="Locked"), "9000.00", date(2026, 3, 2))

    with pytest.raises(PayrollLockedError):
        services.payroll_run_recompute(actor=admin_actor, run=run)
    with pytest.raises(PayrollLockedError):
        services.payroll_run_start(actor=admin_actor, period=MARCH)
    with pytest.raises(PayrollLockedError):
        services.payroll_run_compute(run_id=run.pk, today=AFTER_MARCH)
    with pytest.raises(PayrollLockedError):
        services.payroll_run_approve(actor=admin_actor, run=run)

    run.refresh_from_db()
    assert run.status == PayrollRun.Status.APPROVED
    assert run.net_total == Decimal("1000.00")
    assert list(PayslipLine.objects.values_list("pk", "amount")) == snapshot
    assert PayrollRun.objects.count() == 1


def test_second_run_for_an_open_period_is_refused(admin_actor):
    services.payroll_run_start(actor=admin_actor, period=MARCH)

    with pytest.raises(PayrollRunExistsError):
        services.payroll_run_start(actor=admin_actor, period=MARCH)

    assert PayrollRun.objects.count() == 1


# --- formulas ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "error"),
    [
        ("base *", FormulaInvalidError),
        ("__import__('os')", FormulaInvalidError),
        ("base + nonexistent", FormulaUnknownComponentError),
        ("base / 0", FormulaDivisionByZeroError),
        ("base / (working_days - working_days)", FormulaDivisionByZeroError),
    ],
    ids=["syntax", "call", "unknown", "zero", "zero-expression"],
)
def test_bad_formula_is_refused_at_save(admin_actor, formula, error):
    with pytest.raises(error):
        services.salary_component_create(
            actor=admin_actor,
            code="bad",
            name="Bad",
            kind="earning",
            calculation="formula",
            formula=formula,
        )

    assert not SalaryComponent.objects.exists()


def test_formula_cycle_is_refused_and_the_component_unchanged(admin_actor):
    first = services.salary_component_create(
        actor=admin_actor,
        code="first",
        name="A",
        kind="earning",
        calculation="formula",
        formula="base * 0.1",
    )
    services.salary_component_create(
        actor=admin_actor,
        code="second",
        name="B",
        kind="earning",
        calculation="formula",
        formula="first + 1",
    )

    with pytest.raises(FormulaCycleError):
        services.salary_component_update(
            actor=admin_actor, component=first, data={"formula": "second * 2"}
        )

    assert SalaryComponent.objects.get(code="first").formula == "base * 0.1"


def test_structure_missing_a_component_its_formula_needs_is_refused(admin_actor):
    services.salary_component_create(
        actor=admin_actor,
        code="alpha",
        name="A",
        kind="earning",
        calculation="fixed",
        amount=Decimal("10"),
    )
    needs_alpha = services.salary_component_create(
        actor=admin_actor,
        code="beta",
        name="B",
        kind="earning",
        calculation="formula",
        formula="alpha * 2",
    )

    with pytest.raises(FormulaUnknownComponentError):
        services.salary_structure_create(
            actor=admin_actor, name="Broken", components=[needs_alpha.pk]
        )

    assert not SalaryStructure.objects.exists()


def test_division_by_zero_at_run_time_fails_only_that_employee(admin_actor, make_employee):
    per_absence = SalaryComponent.objects.create(
        code="per_absence",
        name="Per absence",
        kind="deduction",
        calculation="formula",
        formula="base / absent_days",
    )
    failing = make_employee("Z-1")
    fine = make_employee("Z-2")
    _assign(failing, _structure("Divides", per_absence), "1000.00")
    _assign(fine, _structure("Plain"), "1000.00")

    run = _compute()

    broken = Payslip.objects.get(run=run, employee=failing)
    assert run.status == PayrollRun.Status.COMPUTED
    assert run.error_count == 1
    assert broken.error_code == "hr.formula_division_by_zero"
    assert "per_absence" in broken.error_message
    assert broken.lines.count() == 0
    assert run.net_total == Decimal("1000.00")
    with pytest.raises(PayrollNotComputedError):
        services.payroll_run_approve(actor=admin_actor, run=run)


# --- queries -------------------------------------------------------------------------------


def _population(make_employee, prefix: str, count: int, structure) -> None:
    for index in range(count):
        employee = make_employee(f"{prefix}{index}", employment_start=date(2026, 3, 1 + index % 20))
        _assign(employee, structure, "1500.00")
        _roster(employee) if index % 3 == 0 else None
        _attend(employee, [date(2026, 3, 2 + index % 5)], overtime_minutes=30)
        if index % 4 == 0:
            _leave(employee, date(2026, 3, 24), date(2026, 3, 25), paid=index % 8 == 0, days="2")


def test_query_count_does_not_grow_with_the_number_of_employees(make_employee):
    component = SalaryComponent.objects.create(
        code="extra", name="Extra", kind="earning", calculation="formula", formula="base * 0.02"
    )
    structure = _structure("Counted", component)
    selectors.hr_policy_get()  # created on first use: not part of what is compared
    _population(make_employee, "Q", 3, structure)
    small_run = PayrollRun.objects.create(period=MARCH)
    with CaptureQueriesContext(connection) as small:
        services.payroll_run_compute(run_id=small_run.pk, today=AFTER_MARCH)
    _population(make_employee, "W", 27, structure)

    with CaptureQueriesContext(connection) as large:
        services.payroll_run_compute(run_id=small_run.pk, today=AFTER_MARCH)

    assert Payslip.objects.filter(run=small_run).count() == 30
    assert len(large.captured_queries) == len(small.captured_queries)


# --- documents and visibility --------------------------------------------------------------


@pytest.fixture
def approved_run(admin_actor, make_employee, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    structure = _structure("Documents")
    staff = make_employee("D-1", user=persona(TENANT_A, "staff"), email="staff.member@example.test")
    other = make_employee("D-2")
    _assign(staff, structure, "2000.00")
    _assign(other, structure, "2500.00")
    run = _compute()
    return services.payroll_run_approve(
        actor=admin_actor, run=run, payslips_url="https://alpha.example.test/hr/payslips/"
    )


def test_payslip_documents_are_generated_once_and_emailed(approved_run):
    from apps.hr.tasks import payroll as tasks
    from apps.notifications.models import Delivery

    first = tasks.payroll_run_payslips_issue(
        schema_name=TENANT_A, run_id=str(approved_run.pk), payslips_url="https://x.test/"
    )
    files = dict(Payslip.objects.values_list("pk", "pdf"))
    again = tasks.payroll_run_payslips_issue(schema_name=TENANT_A, run_id=str(approved_run.pk))

    assert first == 2
    assert again == 1  # the payslip of the employee without an account is never emailed
    assert dict(Payslip.objects.values_list("pk", "pdf")) == files
    staff_slip = Payslip.objects.get(employee__employee_number="D-1")
    with staff_slip.pdf.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    delivery = Delivery.objects.get(
        dedupe_key=f"hr.payslip:{staff_slip.pk}:email:{staff_slip.employee.user_id}"
    )
    assert delivery.address == "staff.member@example.test"
    assert "2,000.00" in delivery.body
    assert Delivery.objects.filter(event=services.PAYSLIP_EVENT).count() == 1
    assert staff_slip.emailed_at is not None


def test_pdf_is_not_generated_before_approval(make_employee, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    employee = make_employee("D-3")
    _assign(employee, _structure("Draft"), "2000.00")
    run = _compute()

    result = services.payslip_pdf_generate(payslip_id=Payslip.objects.get(run=run).pk)

    assert result is None
    assert Payslip.objects.get(run=run).pdf == ""


def test_employees_see_only_their_own_payslips_of_approved_runs(approved_run):
    staff = actor_of(TENANT_A, "staff")
    admin = actor_of(TENANT_A, "admin")
    own = Payslip.objects.get(employee__employee_number="D-1")
    other = Payslip.objects.get(employee__employee_number="D-2")

    visible = set(selectors.payslip_list(actor=staff).values_list("pk", flat=True))

    assert visible == {own.pk}
    assert selectors.payslip_get(actor=staff, payslip_id=own.pk) == own
    with pytest.raises(NotFoundError):
        selectors.payslip_get(actor=staff, payslip_id=other.pk)
    assert set(selectors.payslip_list(actor=admin).values_list("pk", flat=True)) == {
        own.pk,
        other.pk,
    }


def test_draft_payslips_are_hidden_from_employees(make_employee):
    employee = make_employee("D-4", user=persona(TENANT_A, "staff"))
    _assign(employee, _structure("Hidden"), "2000.00")
    _compute()

    visible = selectors.payslip_list(actor=actor_of(TENANT_A, "staff"))

    assert list(visible) == []
