"""Holidays: the country's public ones (from the policy) and the tenant's own."""

from __future__ import annotations

from datetime import date

import pytest

from apps.core.tenancy import in_tenant
from apps.hr.models import HrPolicy, TenantHoliday
from apps.hr.selectors.policy import hr_policy_get
from apps.hr.tests.conftest import error_of
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db

HOLIDAYS = "/api/v1/hr/holidays/"


def _policy(**fields) -> None:
    with in_tenant(TENANT_A):
        hr_policy_get()
        HrPolicy.objects.update(**fields)


def test_public_and_tenant_holidays_by_date_and_source(api_client):
    _policy(holiday_country="GB", holiday_subdivision="")
    with in_tenant(TENANT_A):
        TenantHoliday.objects.create(date=date(2026, 12, 24), name="Christmas Eve off")

    response = api_client(TENANT_A, "staff").get(HOLIDAYS, {"year": 2026})

    assert response.status_code == 200
    december = [row for row in response.json() if row["date"].startswith("2026-12")]
    assert [(row["date"], row["source"]) for row in december] == [
        ("2026-12-24", "tenant"),
        ("2026-12-25", "public"),
        ("2026-12-26", "public"),
        ("2026-12-28", "public"),
    ]
    assert december[3]["name"] == "Boxing Day (observed)"
    assert december[0]["id"] is not None


def test_subdivision_holidays(api_client):
    _policy(holiday_country="GB", holiday_subdivision="SCT")

    rows = api_client(TENANT_A, "staff").get(HOLIDAYS, {"year": 2026}).json()

    assert "2026-11-30" in {row["date"] for row in rows}  # St Andrew's Day


@pytest.mark.parametrize("year", ["1066", "20260", "soon", ""])
def test_bad_year_is_400(api_client, year):
    response = api_client(TENANT_A, "staff").get(HOLIDAYS, {"year": year})

    assert response.status_code == 400
    assert "year" in error_of(response)["fields"]


def test_unknown_calendar_is_409(api_client):
    _policy(holiday_country="ZZ")

    response = api_client(TENANT_A, "staff").get(HOLIDAYS)

    assert response.status_code == 409
    assert error_of(response)["code"] == "hr.holiday_calendar_unknown"


def test_tenant_holiday_crud_and_date_taken(api_client):
    admin = api_client(TENANT_A, "admin")

    created = admin.post(
        "/api/v1/hr/tenant-holidays/", {"date": "2026-08-07", "name": "Summer day"}, format="json"
    )
    taken = admin.post(
        "/api/v1/hr/tenant-holidays/", {"date": "2026-08-07", "name": "Again"}, format="json"
    )
    by_staff = api_client(TENANT_A, "staff").post(
        "/api/v1/hr/tenant-holidays/", {"date": "2026-08-10", "name": "Mine"}, format="json"
    )
    renamed = admin.patch(
        f"/api/v1/hr/tenant-holidays/{created.json()['id']}/", {"name": "Team day"}, format="json"
    )
    deleted = admin.delete(f"/api/v1/hr/tenant-holidays/{created.json()['id']}/")

    assert created.status_code == 201
    assert taken.status_code == 409
    assert error_of(taken)["code"] == "hr.holiday_date_taken"
    assert by_staff.status_code == 403
    assert renamed.json()["name"] == "Team day"
    assert deleted.status_code == 204
    with in_tenant(TENANT_A):
        assert not TenantHoliday.objects.exists()
