"""Two check-ins of one employee at the same moment, on two database connections: one
wins, the other gets hr.already_checked_in, and exactly one record is open.

Not pytest-django's ``transaction=True``: its teardown truncates every table, the session's
tenants included. The rows are committed here and removed by the fixture.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from apps.core.tenancy import in_tenant
from tests.personas import TENANT_A

AT_OFFICE = {"latitude": 51.5137, "longitude": -0.0904, "accuracy_m": 10}


@pytest.fixture
def committed_staff(django_db_setup, django_db_blocker) -> Iterator[object]:
    from apps.hr.models import AttendanceRecord, Employee, WorkLocation
    from tests.fixtures import persona

    with django_db_blocker.unblock(), in_tenant(TENANT_A):
        office = WorkLocation.objects.create(
            name="Race office",
            latitude=Decimal("51.513600"),
            longitude=Decimal("-0.090300"),
            radius_m=120,
            time_zone="Europe/London",
        )
        employee = Employee.objects.create(
            employee_number="RACE-1",
            first_name="Race",
            last_name="Condition",
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


def test_simultaneous_check_ins_leave_one_open_record(committed_staff, django_db_blocker):
    from django.db import connection

    from apps.hr.errors import AlreadyCheckedInError
    from apps.hr.models import AttendanceRecord
    from apps.hr.services import attendance as services
    from apps.hr.tests.conftest import actor_of

    actor = actor_of(TENANT_A, "staff")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def punch() -> None:
        try:
            with django_db_blocker.unblock(), in_tenant(TENANT_A):
                barrier.wait(timeout=10)
                try:
                    services.attendance_check_in(actor=actor, **AT_OFFICE)
                    outcomes.append("created")
                except AlreadyCheckedInError:
                    outcomes.append("already_checked_in")
        finally:
            connection.close()

    threads = [threading.Thread(target=punch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["already_checked_in", "created"]
    with django_db_blocker.unblock(), in_tenant(TENANT_A):
        assert AttendanceRecord.objects.filter(employee=committed_staff, state="open").count() == 1
