"""Cross-tenant specs for /api/v1/hr/ payroll routes (merged into tests.api.routes.ROUTES).

Rows are made with the ORM in B's schema. Runs and assignments carry no free text, so
their marker is their id, which their representation shows.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from tests.api.routes import Spec


def _marker(kind: str) -> str:
    return f"xt-{kind}-{uuid.uuid4().hex[:8]}"


def _make_component() -> tuple[dict, str]:
    from apps.hr.models import SalaryComponent

    marker = _marker("component")
    component = SalaryComponent.objects.create(
        code=f"xt_{uuid.uuid4().hex[:8]}",
        name=marker,
        kind="earning",
        calculation="fixed",
        amount=Decimal("10.00"),
    )
    return {"component_id": component.pk}, marker


def _component_intact(marker: str) -> bool:
    from apps.hr.models import SalaryComponent

    return SalaryComponent.objects.filter(name=marker, amount=Decimal("10.00")).exists()


def _make_structure() -> tuple[dict, str]:
    from apps.hr.models import SalaryStructure

    marker = _marker("structure")
    return {"structure_id": SalaryStructure.objects.create(name=marker).pk}, marker


def _structure_intact(marker: str) -> bool:
    from apps.hr.models import SalaryStructure

    return SalaryStructure.objects.filter(name=marker, description="").exists()


def _employee(marker: str):
    from apps.hr.models import Employee

    return Employee.objects.create(
        employee_number=marker[-12:],
        first_name=marker,
        last_name="Crosstenant",
        employment_start=date(2024, 1, 1),
    )


def _make_assignment() -> tuple[dict, str]:
    from apps.hr.models import SalaryAssignment, SalaryStructure

    marker = _marker("assignment")
    assignment = SalaryAssignment.objects.create(
        employee=_employee(marker),
        structure=SalaryStructure.objects.create(name=marker),
        base_pay=Decimal("1234.56"),
        effective_from=date(2024, 1, 1),
    )
    return {"assignment_id": assignment.pk}, str(assignment.pk)


def _assignment_intact(marker: str) -> bool:
    from apps.hr.models import SalaryAssignment

    return SalaryAssignment.objects.filter(pk=marker, base_pay=Decimal("1234.56")).exists()


def _free_period() -> date:
    from apps.hr.models import PayrollRun

    taken = set(PayrollRun.objects.values_list("period", flat=True))
    for year in range(2090, 2100):
        for month in range(1, 13):
            if date(year, month, 1) not in taken:
                return date(year, month, 1)
    raise AssertionError("no free period")


def _make_run() -> tuple[dict, str]:
    from apps.hr.models import PayrollRun

    run = PayrollRun.objects.create(period=_free_period(), status=PayrollRun.Status.COMPUTED)
    return {"run_id": run.pk}, str(run.pk)


def _run_intact(marker: str) -> bool:
    from apps.hr.models import PayrollRun

    return PayrollRun.objects.filter(
        pk=marker, status=PayrollRun.Status.COMPUTED, approved_at__isnull=True, job__isnull=True
    ).exists()


def _make_payslip() -> tuple[dict, str]:
    from apps.hr.models import PayrollRun, Payslip

    marker = _marker("payslip")
    run = PayrollRun.objects.create(period=_free_period(), status=PayrollRun.Status.APPROVED)
    payslip = Payslip.objects.create(
        run=run,
        employee=_employee(marker),
        gross=Decimal("100.00"),
        deductions=Decimal("0.00"),
        net=Decimal("100.00"),
        pdf="hr/payslips/xt.pdf",
    )
    return {"payslip_id": payslip.pk}, marker


def _payslip_intact(marker: str) -> bool:
    from apps.hr.models import Payslip

    return Payslip.objects.filter(employee__first_name=marker, net=Decimal("100.00")).exists()


ROUTES: dict[str, Spec] = {
    "api/v1/hr/salary-components/": Spec(make=_make_component, intact=_component_intact),
    "api/v1/hr/salary-components/<uuid:component_id>/": Spec(
        make=_make_component, write_body={"name": "taken over"}, intact=_component_intact
    ),
    "api/v1/hr/salary-structures/": Spec(make=_make_structure, intact=_structure_intact),
    "api/v1/hr/salary-structures/<uuid:structure_id>/": Spec(
        make=_make_structure, write_body={"name": "taken over"}, intact=_structure_intact
    ),
    "api/v1/hr/salary-assignments/": Spec(make=_make_assignment, intact=_assignment_intact),
    "api/v1/hr/salary-assignments/<uuid:assignment_id>/": Spec(
        make=_make_assignment, write_body={"base_pay": "1.00"}, intact=_assignment_intact
    ),
    "api/v1/hr/payroll-runs/": Spec(make=_make_run, intact=_run_intact),
    "api/v1/hr/payroll-runs/<uuid:run_id>/": Spec(make=_make_run, intact=_run_intact),
    "api/v1/hr/payroll-runs/<uuid:run_id>/recompute/": Spec(make=_make_run, intact=_run_intact),
    "api/v1/hr/payroll-runs/<uuid:run_id>/approve/": Spec(make=_make_run, intact=_run_intact),
    "api/v1/hr/payslips/": Spec(make=_make_payslip, intact=_payslip_intact),
    "api/v1/hr/payslips/<uuid:payslip_id>/": Spec(make=_make_payslip, intact=_payslip_intact),
    "api/v1/hr/payslips/<uuid:payslip_id>/pdf/": Spec(make=_make_payslip, intact=_payslip_intact),
}
