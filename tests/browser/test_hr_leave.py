"""Leave in a real browser: a staff member requests leave on "my leave", their manager
approves it on the approvals page, and the staff member sees it approved and the
balance reduced.

The live server is another process, so the rows it must see are committed here and
removed at the end (``db`` below is committed access, as in tests/realtime).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tests.personas import PASSWORD, TENANT_A


@pytest.fixture
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def leave_setup(db) -> Iterator[dict[str, Any]]:
    """staff reports to an employee whose user is admin; 10 days of annual leave."""
    from auditlog.models import LogEntry

    from apps.core.tenancy import in_tenant
    from apps.hr.models import Employee, HrPolicy, LeaveLedgerEntry, LeaveRequest, LeaveType
    from apps.jobs.models import OutboxMessage
    from apps.notifications.models import Delivery, InAppNotification
    from tests.fixtures import persona

    with in_tenant(TENANT_A):
        started = timezone.now()
        had_policy = HrPolicy.objects.exists()
        manager = Employee.objects.create(
            employee_number="BR-BOSS",
            first_name="Morgan",
            last_name="Manager",
            employment_start=date(2024, 1, 1),
            user=persona(TENANT_A, "admin"),
        )
        staff = Employee.objects.create(
            employee_number="BR-STAFF",
            first_name="Sam",
            last_name="Staff",
            employment_start=date(2024, 1, 1),
            manager=manager,
            user=persona(TENANT_A, "staff"),
        )
        annual = LeaveType.objects.create(code="browser-annual", name="Annual leave (browser)")
        LeaveLedgerEntry.objects.create(
            employee=staff,
            leave_type=annual,
            kind="accrual",
            days=Decimal(10),
            effective_on=date(2025, 1, 1),
            period_key="browser",
        )
        try:
            yield {"staff": staff, "manager": manager, "annual": annual}
        finally:
            with in_tenant(TENANT_A):
                employees = [staff.pk, manager.pk]
                LeaveLedgerEntry.objects.filter(employee_id__in=employees).delete()
                LeaveRequest.objects.filter(employee_id__in=employees).delete()
                LeaveType.objects.filter(pk=annual.pk).delete()
                Employee.all_objects.filter(pk=staff.pk).delete()
                Employee.all_objects.filter(pk=manager.pk).delete()
                Delivery.objects.filter(event__startswith="hr.leave_").delete()
                InAppNotification.objects.filter(event__startswith="hr.leave_").delete()
                OutboxMessage.objects.filter(created_at__gte=started).delete()
                LogEntry.objects.filter(timestamp__gte=started).delete()
                if not had_policy:
                    HrPolicy.objects.all().delete()


def _sign_in(page: Any, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}{next_path}")
    page.wait_for_url(f"{base}/accounts/login/**")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


def test_staff_requests_leave_and_the_manager_approves_it(browser, asgi_server, leave_setup):
    base = f"http://alpha.localhost:{asgi_server.port}"
    monday = timezone.localdate() + timedelta(weeks=3)
    monday -= timedelta(days=monday.weekday())
    tuesday = monday + timedelta(days=1)
    staff_context = browser.new_context()
    manager_context = browser.new_context()
    try:
        staff = staff_context.new_page()
        _sign_in(staff, base, "staff", "/hr/leave/")
        annual_row = staff.locator("#balances tr[data-leave-type=browser-annual]")
        assert annual_row.locator(".balance").inner_text() == "10.00"

        staff.select_option("#id_leave_type", label="Annual leave (browser)")
        staff.fill("#id_starts_on", monday.isoformat())
        staff.fill("#id_ends_on", tuesday.isoformat())
        staff.fill("#id_reason", "Family visit")
        staff.click("#leave-request-form button[type=submit]")
        staff.wait_for_load_state()
        assert "sent for approval" in staff.locator(".messages").inner_text()
        assert staff.locator("#requests .status").first.inner_text() == "pending"
        assert annual_row.locator(".available").inner_text() == "8.00"

        manager = manager_context.new_page()
        _sign_in(manager, base, "admin", "/hr/leave/approvals/")
        pending = manager.locator("#pending tbody tr", has_text="Sam Staff")
        assert "Family visit" in pending.inner_text()
        pending.locator("button", has_text="Approve").click()
        manager.wait_for_load_state()
        assert "was approved" in manager.locator(".messages").inner_text()
        assert "Nothing is waiting" in manager.locator("#pending").inner_text()

        staff.goto(f"{base}/hr/leave/")
        assert staff.locator("#requests .status").first.inner_text() == "approved"
        assert annual_row.locator(".balance").inner_text() == "8.00"
    finally:
        staff_context.close()
        manager_context.close()
