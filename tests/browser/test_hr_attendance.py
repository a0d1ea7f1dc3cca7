"""A staff member checks in from the attendance page: the browser shares its position
(Playwright's geolocation), the page posts it to the check-in API with the session, and
the page shows the checked-in state; far from every work location the refusal shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from apps.core.tenancy import in_tenant
from tests.personas import PASSWORD, TENANT_A

AT_OFFICE = {"latitude": 51.5137, "longitude": -0.0904, "accuracy": 12}
FAR_AWAY = {"latitude": 48.8566, "longitude": 2.3522, "accuracy": 12}  # Paris


@pytest.fixture(autouse=True)
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Committed database access, as under tests/realtime: the live server must see the
    rows. Named ``db`` so that pytest-django creates the test database for this module."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def staff_employee(django_db_setup, django_db_blocker) -> Iterator[object]:
    """Committed rows (the live server is another process), removed afterwards."""
    from apps.hr.models import AttendanceRecord, Employee, WorkLocation
    from tests.fixtures import persona

    with django_db_blocker.unblock(), in_tenant(TENANT_A):
        office = WorkLocation.objects.create(
            name="Browser office",
            latitude=Decimal("51.513600"),
            longitude=Decimal("-0.090300"),
            radius_m=120,
            time_zone="Europe/London",
        )
        employee = Employee.objects.create(
            employee_number="BROWSER-1",
            first_name="Brow",
            last_name="Ser",
            employment_start=date(2024, 1, 1),
            work_time_zone="Europe/London",
            user=persona(TENANT_A, "staff"),
        )
        employee.allowed_locations.set([office])
        try:
            yield employee
        finally:
            AttendanceRecord.objects.filter(employee=employee).delete()
            employee.allowed_locations.clear()
            Employee.all_objects.filter(pk=employee.pk).delete()
            office.delete()


def _records(employee) -> list[tuple]:
    from apps.hr.models import AttendanceRecord

    with in_tenant(TENANT_A):
        return list(
            AttendanceRecord.objects.filter(employee=employee).values_list("state", flat=True)
        )


def _signed_in_page(browser, base: str, position: dict):
    context = browser.new_context(geolocation=position, permissions=["geolocation"])
    page = context.new_page()
    page.goto(f"{base}/hr/attendance/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/hr/attendance/")
    return context, page


def test_staff_member_checks_in_from_the_browser(
    browser, asgi_server, staff_employee, django_db_blocker
):
    base = f"http://alpha.localhost:{asgi_server.port}"
    context, page = _signed_in_page(browser, base, AT_OFFICE)
    try:
        assert page.locator("#attendance-status").inner_text() == "You are not checked in."

        page.click("#attendance-button")

        page.wait_for_selector("#attendance-status[data-state=checked-in]")
        assert "Checked in since" in page.locator("#attendance-status").inner_text()
        assert page.locator("#attendance-button").inner_text() == "Check out"
        assert "open" in page.locator("#my-attendance tbody").inner_text()
    finally:
        context.close()
    with django_db_blocker.unblock():
        assert _records(staff_employee) == ["open"]


def test_check_in_far_from_the_office_is_refused_on_the_page(
    browser, asgi_server, staff_employee, django_db_blocker
):
    base = f"http://alpha.localhost:{asgi_server.port}"
    context, page = _signed_in_page(browser, base, FAR_AWAY)
    try:
        page.click("#attendance-button")

        page.wait_for_function("document.getElementById('attendance-error').textContent !== ''")
        error = page.locator("#attendance-error").inner_text()
        assert "outside every work location" in error
        assert "Browser office" in error
        assert page.locator("#attendance-status").inner_text() == "You are not checked in."
    finally:
        context.close()
    with django_db_blocker.unblock():
        assert _records(staff_employee) == []
