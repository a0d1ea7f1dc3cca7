"""HR payroll API contract: status codes, error codes and shapes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.core import tenancy
from apps.hr.models import PayrollRun, Payslip, SalaryAssignment, SalaryComponent, SalaryStructure
from apps.hr.services import payroll as services
from apps.hr.tests.conftest import actor_of, error_of
from tests.fixtures import persona
from tests.personas import PASSWORD, TENANT_A

pytestmark = pytest.mark.django_db

BASE = "/api/v1/hr"


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("base +", "hr.formula_invalid"),
        ("base * missing", "hr.formula_unknown_component"),
        ("base / 0", "hr.formula_division_by_zero"),
    ],
)
def test_bad_formula_is_a_400_with_its_code_and_nothing_is_stored(api_client, formula, code):
    response = api_client(TENANT_A, "admin").post(
        f"{BASE}/salary-components/",
        {
            "code": "bad",
            "name": "Bad",
            "kind": "earning",
            "calculation": "formula",
            "formula": formula,
        },
        format="json",
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == code
    with tenancy.in_tenant(TENANT_A):
        assert not SalaryComponent.objects.filter(code="bad").exists()


def test_component_structure_and_assignment_are_created(api_client, make_employee):
    client = api_client(TENANT_A, "admin")
    employee = make_employee("API-1")

    component = client.post(
        f"{BASE}/salary-components/",
        {
            "code": "bonus",
            "name": "Bonus",
            "kind": "earning",
            "calculation": "formula",
            "formula": "base * 0.1",
        },
        format="json",
    )
    structure = client.post(
        f"{BASE}/salary-structures/",
        {"name": "Std", "components": [component.json()["id"]]},
        format="json",
    )
    assignment = client.post(
        f"{BASE}/salary-assignments/",
        {
            "employee": str(employee.pk),
            "structure": structure.json()["id"],
            "base_pay": "2500.00",
            "effective_from": "2026-01-01",
        },
        format="json",
    )
    again = client.post(
        f"{BASE}/salary-assignments/",
        {
            "employee": str(employee.pk),
            "structure": structure.json()["id"],
            "base_pay": "2600.00",
            "effective_from": "2026-01-01",
        },
        format="json",
    )

    assert component.status_code == 201
    assert component.json()["formula"] == "base * 0.1"
    assert structure.status_code == 201
    assert assignment.status_code == 201
    assert assignment.json()["base_pay"] == "2500.00"
    assert again.status_code == 409
    assert error_of(again)["code"] == "hr.salary_assignment_exists"


def test_payroll_run_starts_a_job_and_a_second_one_is_refused(api_client):
    client = api_client(TENANT_A, "admin")

    first = client.post(f"{BASE}/payroll-runs/", {"period": "2026-03"}, format="json")
    second = client.post(f"{BASE}/payroll-runs/", {"period": "2026-03"}, format="json")
    bad = client.post(f"{BASE}/payroll-runs/", {"period": "2026-13"}, format="json")

    assert first.status_code == 202
    assert first.json()["period"] == "2026-03"
    assert first.json()["status"] == "draft"
    assert first.json()["job"] is not None
    assert second.status_code == 409
    assert error_of(second)["code"] == "hr.payroll_run_exists"
    assert bad.status_code == 400
    assert "period" in error_of(bad)["fields"]


@pytest.fixture
def computed_run(make_employee):
    structure = SalaryStructure.objects.create(name="Api")
    staff = make_employee("API-S", user=persona(TENANT_A, "staff"))
    other = make_employee("API-O")
    for employee in (staff, other):
        SalaryAssignment.objects.create(
            employee=employee,
            structure=structure,
            base_pay=Decimal("3000.00"),
            effective_from=date(2025, 1, 1),
        )
    run = PayrollRun.objects.create(period=date(2026, 3, 1))
    return services.payroll_run_compute(run_id=run.pk, today=date(2026, 4, 15))


def test_approve_locks_and_later_changes_are_409_locked(api_client, computed_run):
    client = api_client(TENANT_A, "admin")

    approved = client.post(f"{BASE}/payroll-runs/{computed_run.pk}/approve/", format="json")
    recompute = client.post(f"{BASE}/payroll-runs/{computed_run.pk}/recompute/", format="json")
    again = client.post(f"{BASE}/payroll-runs/", {"period": "2026-03"}, format="json")

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["net_total"] == "6000.00"
    for response in (recompute, again):
        assert response.status_code == 409
        assert error_of(response)["code"] == "hr.payroll_locked"
    with tenancy.in_tenant(TENANT_A):
        assert PayrollRun.objects.get().status == "approved"


def test_recompute_of_an_open_run_is_accepted(api_client, computed_run):
    response = api_client(TENANT_A, "admin").post(
        f"{BASE}/payroll-runs/{computed_run.pk}/recompute/", format="json"
    )

    assert response.status_code == 202
    assert response.json()["status"] == "draft"


def test_staff_cannot_see_payroll_runs(api_client, computed_run):
    response = api_client(TENANT_A, "staff").get(f"{BASE}/payroll-runs/")

    assert response.status_code == 403


def test_employee_gets_only_their_own_payslip_and_pdf(api_client, computed_run, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with tenancy.in_tenant(TENANT_A):
        services.payroll_run_approve(actor=actor_of(TENANT_A, "admin"), run=computed_run)
        own = Payslip.objects.get(employee__employee_number="API-S")
        other = Payslip.objects.get(employee__employee_number="API-O")
        not_ready = api_client(TENANT_A, "staff").get(f"{BASE}/payslips/{own.pk}/pdf/")
        services.payroll_run_payslips_issue(run_id=computed_run.pk)
    client = api_client(TENANT_A, "staff")

    listing = client.get(f"{BASE}/payslips/")
    detail = client.get(f"{BASE}/payslips/{own.pk}/")
    pdf = client.get(f"{BASE}/payslips/{own.pk}/pdf/")
    foreign = client.get(f"{BASE}/payslips/{other.pk}/")
    foreign_pdf = client.get(f"{BASE}/payslips/{other.pk}/pdf/")

    assert not_ready.status_code == 409
    assert error_of(not_ready)["code"] == "hr.payslip_not_ready"
    assert [row["id"] for row in listing.json()["results"]] == [str(own.pk)]
    assert detail.status_code == 200
    assert detail.json()["lines"][0]["code"] == "base"
    assert detail.json()["lines"][0]["amount"] == "3000.00"
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    for response in (foreign, foreign_pdf):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_payroll_register_is_a_registered_excel_report_with_totals(computed_run, tmp_path):
    from openpyxl import load_workbook

    from apps.reports.registry import ReportOutput, report_lookup

    register = report_lookup("hr-payroll-register")
    path = tmp_path / "register.xlsx"

    with tenancy.in_tenant(TENANT_A):
        rows = register.generate(
            actor=actor_of(TENANT_A, "admin"),
            params={"period": "2026-03"},
            output=ReportOutput(path=path),
        )

    sheet = load_workbook(path, read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert register.permission == "hr.access_all_payslips"
    assert rows == 3
    assert values[0][0] == "Employee number"
    assert [row[0] for row in values[1:3]] == ["API-O", "API-S"]
    assert values[3][0] == "Total"
    assert (
        Decimal(str(values[3][11]))
        == Decimal("6000.00")
        == sum(Decimal(str(row[11])) for row in values[1:3])
    )


def test_my_payslips_page_lists_own_payslips_only(client, computed_run, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with tenancy.in_tenant(TENANT_A):
        services.payroll_run_approve(actor=actor_of(TENANT_A, "admin"), run=computed_run)
        services.payroll_run_payslips_issue(run_id=computed_run.pk)
        own = Payslip.objects.get(employee__employee_number="API-S")
        other = Payslip.objects.get(employee__employee_number="API-O")
    client.post(
        "/accounts/login/", {"username": "staff", "password": PASSWORD}, HTTP_HOST="alpha.localhost"
    )

    page = client.get("/hr/payslips/", HTTP_HOST="alpha.localhost")
    pdf = client.get(f"/hr/payslips/{own.pk}/pdf/", HTTP_HOST="alpha.localhost")
    foreign = client.get(f"/hr/payslips/{other.pk}/pdf/", HTTP_HOST="alpha.localhost")

    assert page.status_code == 200
    assert page.content.decode().count('class="pdf"') == 1
    assert "March 2026" in page.content.decode()
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert foreign.status_code == 404


def test_hr_admin_runs_payroll_from_the_admin(client, settings):
    client.post(
        "/admin/login/",
        {"username": "admin", "password": PASSWORD},
        HTTP_HOST="alpha.localhost",
    )

    added = client.post(
        "/admin/hr/payrollrun/add/", {"month": "2026-05"}, HTTP_HOST="alpha.localhost"
    )
    duplicate = client.post(
        "/admin/hr/payrollrun/add/", {"month": "2026-05"}, HTTP_HOST="alpha.localhost"
    )

    assert added.status_code == 302
    assert duplicate.status_code == 200
    assert "recompute it instead" in duplicate.content.decode()
    with tenancy.in_tenant(TENANT_A):
        run = PayrollRun.objects.get(period=date(2026, 5, 1))
        assert run.job_id is not None
