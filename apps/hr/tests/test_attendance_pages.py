"""The attendance staff page, server side: states, own records only, module gate."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from apps.core.tenancy import in_tenant
from apps.hr.models import AttendanceRecord, Employee
from tests.fixtures import persona
from tests.personas import HOSTS, PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _client(schema_name: str, username: str) -> Client:
    client = Client(HTTP_HOST=HOSTS[schema_name])
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_page_needs_a_login():
    response = Client(HTTP_HOST=HOSTS[TENANT_A]).get("/hr/attendance/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_account_without_employee_is_told_so():
    response = _client(TENANT_A, "admin").get("/hr/attendance/")

    assert response.status_code == 200
    assert "not linked to an employee record" in response.content.decode()


def test_page_shows_own_records_in_the_work_time_zone():
    with in_tenant(TENANT_A):
        own = Employee.objects.create(
            employee_number="S-1",
            first_name="S",
            last_name="One",
            employment_start=date(2024, 1, 1),
            work_time_zone="America/New_York",
            user=persona(TENANT_A, "staff"),
        )
        other = Employee.objects.create(
            employee_number="O-1",
            first_name="O",
            last_name="One",
            employment_start=date(2024, 1, 1),
        )
        AttendanceRecord.objects.create(
            employee=own,
            work_date=date(2026, 6, 15),
            check_in_at=datetime(2026, 6, 15, 13, 5, tzinfo=UTC),
            punched_in_at=datetime(2026, 6, 15, 13, 5, tzinfo=UTC),
            check_out_at=datetime(2026, 6, 15, 21, 35, tzinfo=UTC),
            state="closed",
            worked_minutes=510,
            overtime_minutes=30,
        )
        AttendanceRecord.objects.create(
            employee=other,
            work_date=date(2026, 6, 14),
            check_in_at=datetime(2026, 6, 14, 9, tzinfo=UTC),
            punched_in_at=datetime(2026, 6, 14, 9, tzinfo=UTC),
        )

    page = _client(TENANT_A, "staff").get("/hr/attendance/").content.decode()

    assert "You are not checked in." in page
    assert "<td>09:05</td>" in page  # EDT wall clock
    assert "<td>17:35</td>" in page
    assert "<td>8 h 30 min</td>" in page
    assert "<td>30 min</td>" in page
    assert "Sun 14 Jun 2026" not in page


def test_page_is_404_for_a_tenant_without_hr():
    response = _client(TENANT_B, "staff").get("/hr/attendance/")

    assert response.status_code == 404
