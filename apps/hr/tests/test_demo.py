"""seed_hr_demo: realistic demo data, and running it twice changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.core.tenancy import in_tenant
from apps.hr.models import Department, Employee, WorkLocation
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple:
    with in_tenant(TENANT_A):
        return (
            Department.objects.count(),
            WorkLocation.objects.count(),
            sorted(Employee.objects.values_list("employee_number", "manager__employee_number")),
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


def test_seed_refuses_an_unknown_schema():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_hr_demo", schema="nope")
