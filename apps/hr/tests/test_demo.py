"""seed_hr_demo: realistic demo data, and running it twice changes nothing."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.core.tenancy import in_tenant
from apps.hr.models import (
    AttendanceRecord,
    Department,
    Employee,
    HrPolicy,
    LeaveLedgerEntry,
    LeaveRequest,
    SalaryAssignment,
    ShiftAssignment,
    WorkLocation,
)
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple:
    with in_tenant(TENANT_A):
        return (
            Department.objects.count(),
            WorkLocation.objects.count(),
            sorted(Employee.objects.values_list("employee_number", "manager__employee_number")),
            ShiftAssignment.objects.count(),
            AttendanceRecord.objects.count(),
            sorted(LeaveRequest.objects.values_list("employee__employee_number", "status")),
            LeaveLedgerEntry.objects.count(),
            SalaryAssignment.objects.count(),
        )


def test_seed_is_realistic_and_idempotent():
    call_command("seed_hr_demo", schema=TENANT_A)
    first = _snapshot()

    call_command("seed_hr_demo", schema=TENANT_A)

    assert _snapshot() == first
    with in_tenant(TENANT_A):
        assert Employee.objects.count() == 50
        assert set(Employee.objects.values_list("work_time_zone", flat=True)) == {
            "America/New_York",
            "Europe/London",
        }
        assert Employee.objects.filter(manager__isnull=True).count() == 1
        assert Employee.objects.filter(user__username="manager").get().reports.count() > 5
        assert Employee.objects.filter(user__username="employee").get().manager.user.username == (
            "manager"
        )
        assert all(
            phone.startswith("+") for phone in Employee.objects.values_list("phone", flat=True)
        )


def test_seed_gives_a_month_of_work_leave_and_salaries_to_try_the_module_with():
    call_command("seed_hr_demo", schema=TENANT_A)

    with in_tenant(TENANT_A):
        assert ShiftAssignment.objects.count() == 50
        assert SalaryAssignment.objects.count() == 50
        assert HrPolicy.objects.get().outside_geofence == "needs_approval"
        records = AttendanceRecord.objects.all()
        days = set(records.values_list("work_date", flat=True))
        assert 20 <= len(days) <= 62
        assert records.filter(state="open").count() == 0
        zones = set(records.values_list("employee__work_time_zone", flat=True))
        assert zones == {"America/New_York", "Europe/London"}
        night = records.filter(shift__name="Night").select_related("employee").first()
        zone = ZoneInfo(night.employee.work_time_zone)
        assert night.check_out_at.astimezone(zone).date() == night.work_date + timedelta(days=1)
        assert records.filter(overtime_minutes__gt=0).exists()
        assert records.filter(late_minutes__gt=0).exists()
        statuses = list(LeaveRequest.objects.values_list("status", flat=True))
        assert statuses.count("approved") >= 4
        pending = LeaveRequest.objects.get(status="pending")
        assert pending.employee.manager.user.username == "manager"
        for leave in LeaveRequest.objects.filter(status="approved"):
            assert not records.filter(
                employee=leave.employee, work_date__range=(leave.starts_on, leave.ends_on)
            ).exists()


def test_seed_refuses_an_unknown_schema():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_hr_demo", schema="nope")


def test_last_month_of_the_demo_pays_everyone_a_positive_net_that_reconciles():
    from apps.hr.models import PayrollRun, Payslip
    from apps.hr.services.payroll import payroll_run_compute

    call_command("seed_hr_demo", schema=TENANT_A)

    with in_tenant(TENANT_A):
        today = timezone.localdate()
        period = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        run = PayrollRun.objects.create(period=period)
        payroll_run_compute(run_id=run.pk, today=today)

        run.refresh_from_db()
        payslips = Payslip.objects.filter(run=run)
        assert run.status == "computed"
        assert run.error_count == 0
        assert payslips.count() == 50
        assert all(net > 0 for net in payslips.values_list("net", flat=True))
        assert run.net_total == sum(payslips.values_list("net", flat=True))
