"""A staff member opens "my payslips", sees the payslip of an approved month and downloads
its PDF; another employee's payslip is not listed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from apps.core.tenancy import in_tenant
from tests.personas import PASSWORD, TENANT_A

PERIOD = date(2031, 1, 1)


@pytest.fixture(autouse=True)
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Committed database access, as under tests/realtime: the live server must see the
    rows. Named ``db`` so that pytest-django creates the test database for this module."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def approved_payslips(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """An approved run of January 2031 with the staff persona's payslip (PDF generated) and
    a colleague's; committed (the live server is another process), removed afterwards."""
    from django.core.files.storage import default_storage

    from apps.hr.models import (
        Employee,
        PayrollRun,
        Payslip,
        PayslipLine,
        SalaryAssignment,
        SalaryStructure,
    )
    from apps.hr.services import payroll as services
    from tests.fixtures import persona

    with django_db_blocker.unblock(), in_tenant(TENANT_A):
        structure = SalaryStructure.objects.create(name="Browser payroll")
        staff = Employee.objects.create(
            employee_number="BROWSER-PAY-1",
            first_name="Pay",
            last_name="Slip",
            employment_start=date(2024, 1, 1),
            user=persona(TENANT_A, "staff"),
        )
        colleague = Employee.objects.create(
            employee_number="BROWSER-PAY-2",
            first_name="Col",
            last_name="League",
            employment_start=date(2024, 1, 1),
        )
        for employee, base in ((staff, "3100.00"), (colleague, "4700.00")):
            SalaryAssignment.objects.create(
                employee=employee,
                structure=structure,
                base_pay=Decimal(base),
                effective_from=date(2024, 1, 1),
            )
        run = PayrollRun.objects.create(period=PERIOD)
        try:
            services.payroll_run_compute(run_id=run.pk, today=date(2031, 2, 15))
            PayrollRun.objects.filter(pk=run.pk).update(status=PayrollRun.Status.APPROVED)
            for payslip in Payslip.objects.filter(run=run):
                services.payslip_pdf_generate(payslip_id=payslip.pk)
            yield {"run": run, "staff": staff}
        finally:
            for name in Payslip.objects.filter(run=run).values_list("pdf", flat=True):
                if name and default_storage.exists(name):
                    default_storage.delete(name)
            PayslipLine.objects.filter(payslip__run=run).delete()
            Payslip.objects.filter(run=run).delete()
            run.delete()
            SalaryAssignment.objects.filter(structure=structure).delete()
            Employee.all_objects.filter(pk__in=[staff.pk, colleague.pk]).delete()
            structure.delete()


def test_staff_member_downloads_their_payslip_pdf(page, asgi_server, approved_payslips):
    base = f"http://alpha.localhost:{asgi_server.port}"
    page.goto(f"{base}/hr/payslips/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/hr/payslips/")

    rows = page.locator("#payslips tbody tr")
    assert rows.count() == 1
    assert "January 2031" in rows.first.inner_text()
    assert "3100.00" in rows.first.locator(".net").inner_text()
    with page.expect_download() as download_info:
        rows.first.locator("a.pdf").click()
    download = download_info.value

    assert download.suggested_filename == "payslip-2031-01.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
