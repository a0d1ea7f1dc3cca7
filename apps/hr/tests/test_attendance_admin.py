"""The attendance admin: records are read-only, corrections go through the service."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from apps.core.tenancy import in_tenant
from apps.hr.models import AttendanceCorrection, AttendanceRecord, Employee
from tests.personas import HOSTS, PASSWORD, TENANT_A

pytestmark = pytest.mark.django_db

CHECKED_IN = datetime(2026, 6, 15, 8, tzinfo=UTC)


@pytest.fixture
def admin_client() -> Client:
    client = Client(HTTP_HOST=HOSTS[TENANT_A])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def record() -> AttendanceRecord:
    with in_tenant(TENANT_A):
        employee = Employee.objects.create(
            employee_number="E-1",
            first_name="Ada",
            last_name="Lovelace",
            employment_start=date(2024, 1, 1),
            work_time_zone="Europe/London",
        )
        return AttendanceRecord.objects.create(
            employee=employee,
            work_date=date(2026, 6, 15),
            check_in_at=CHECKED_IN,
            punched_in_at=CHECKED_IN,
            state="auto_closed",
            check_out_at=datetime(2026, 6, 15, 23, tzinfo=UTC),
            needs_review=True,
            approval="pending",
        )


def test_correction_in_the_admin_keeps_the_punch(admin_client, record):
    response = admin_client.post(
        f"/admin/hr/attendancerecord/{record.pk}/change/",
        {
            "corrected_check_in": "2026-06-15 09:00:00",
            "corrected_check_out": "2026-06-15 17:30:00",
            "reason": "Left at half past five.",
            "corrections-TOTAL_FORMS": "0",
            "corrections-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    with in_tenant(TENANT_A):
        stored = AttendanceRecord.objects.get(pk=record.pk)
        correction = AttendanceCorrection.objects.get(record=record)
    # Typed as London wall-clock time (BST): 09:00 -> 08:00 UTC, 17:30 -> 16:30 UTC.
    assert stored.check_out_at == datetime(2026, 6, 15, 16, 30, tzinfo=UTC)
    assert stored.punched_in_at == CHECKED_IN
    assert (stored.needs_review, stored.worked_minutes) == (False, 510)
    assert correction.corrected_by.username == "admin"


def test_bad_correction_in_the_admin_shows_the_error(admin_client, record):
    response = admin_client.post(
        f"/admin/hr/attendancerecord/{record.pk}/change/",
        {
            "corrected_check_in": "2026-06-15 09:00:00",
            "corrected_check_out": "2026-06-15 08:00:00",
            "reason": "x",
            "corrections-TOTAL_FORMS": "0",
            "corrections-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "Cannot be before check_in_at." in response.content.decode()
    with in_tenant(TENANT_A):
        assert not AttendanceCorrection.objects.exists()


def test_approve_action(admin_client, record):
    response = admin_client.post(
        "/admin/hr/attendancerecord/",
        {"action": "approve_selected", "_selected_action": [str(record.pk)]},
    )

    assert response.status_code == 302
    with in_tenant(TENANT_A):
        assert AttendanceRecord.objects.get(pk=record.pk).approval == "approved"


@pytest.mark.parametrize(
    "path",
    ["hrpolicy", "shifttemplate", "shiftassignment", "attendancerecord"],
)
def test_admin_pages_render(admin_client, record, path):
    assert admin_client.get(f"/admin/hr/{path}/").status_code == 200
    assert admin_client.get(f"/admin/hr/{path}/add/").status_code in (200, 403)
