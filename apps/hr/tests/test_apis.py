"""The /api/v1/hr/ contract: status codes, error codes, shapes, pagination, module gate."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from apps.core.tenancy import in_tenant
from apps.hr.models import Department, Employee
from apps.hr.tests.conftest import error_of
from tests.fixtures import persona
from tests.personas import HOSTS, PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

EMPLOYEE = {
    "employee_number": "E-100",
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace@example.test",
    "phone": "+44 20 7946 0958",
    "employment_start": "2024-02-01",
    "work_time_zone": "Europe/London",
}


def _employee(number: str, **fields) -> Employee:
    with in_tenant(TENANT_A):
        values = {"first_name": "F", "last_name": number, "employment_start": date(2024, 1, 1)}
        return Employee.objects.create(employee_number=number, **{**values, **fields})


def test_create_employee_answers_201_with_e164_phone(api_client):
    response = api_client(TENANT_A, "admin").post("/api/v1/hr/employees/", EMPLOYEE, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+442079460958"
    assert body["work_time_zone"] == "Europe/London"
    assert body["is_active"] is True
    assert body["allowed_locations"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"work_time_zone": "Europe/Gondor"}, "work_time_zone"),
        ({"employment_end": "2024-01-01"}, "employment_end"),
        ({"surname": "x"}, "surname"),
        ({"manager": "00000000-0000-4000-8000-000000000999"}, "manager"),
    ],
)
def test_bad_employee_fields_answer_400_and_store_nothing(api_client, change, field):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/hr/employees/", {**EMPLOYEE, **change}, format="json"
    )

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "validation_error"
    assert field in error_of(response)["fields"]
    with in_tenant(TENANT_A):
        assert not Employee.all_objects.exists()


def test_duplicate_employee_number_answers_409(api_client):
    _employee("E-100")

    response = api_client(TENANT_A, "admin").post("/api/v1/hr/employees/", EMPLOYEE, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "hr.employee_number_taken"


def test_manager_cycle_answers_409(api_client):
    top = _employee("E-1")
    below = _employee("E-2", manager=top)

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/hr/employees/{top.pk}/", {"manager": str(below.pk)}, format="json"
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "hr.manager_cycle"
    with in_tenant(TENANT_A):
        assert Employee.objects.get(pk=top.pk).manager_id is None


def test_department_cycle_answers_409(api_client):
    client = api_client(TENANT_A, "admin")
    root = client.post("/api/v1/hr/departments/", {"name": "Root"}, format="json").json()
    child = client.post(
        "/api/v1/hr/departments/", {"name": "Child", "parent": root["id"]}, format="json"
    ).json()

    response = client.patch(
        f"/api/v1/hr/departments/{root['id']}/", {"parent": child["id"]}, format="json"
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "hr.department_cycle"


def test_delete_is_soft_and_hides_the_employee(api_client):
    employee = _employee("E-1")
    client = api_client(TENANT_A, "admin")

    response = client.delete(f"/api/v1/hr/employees/{employee.pk}/")

    assert response.status_code == 204
    assert client.get(f"/api/v1/hr/employees/{employee.pk}/").status_code == 404
    with in_tenant(TENANT_A):
        assert Employee.all_objects.get(pk=employee.pk).deleted_at is not None


def test_list_is_cursor_paginated_and_filtered(api_client):
    with in_tenant(TENANT_A):
        department = Department.objects.create(name="Ops")
    boss = _employee("E-0")
    for index in range(3):
        _employee(f"E-{index + 1}", department=department, manager=boss)
    _employee("E-9", employment_start=date(2019, 1, 1), employment_end=date(2020, 1, 1))
    client = api_client(TENANT_A, "admin")

    first = client.get("/api/v1/hr/employees/", {"page_size": 2, "department": department.pk})
    second = client.get(first.json()["next"])
    inactive = client.get("/api/v1/hr/employees/", {"is_active": "false"})
    reports = client.get("/api/v1/hr/employees/", {"manager": boss.pk})

    assert first.status_code == 200
    assert len(first.json()["results"]) == 2
    assert len(second.json()["results"]) == 1
    assert second.json()["next"] is None
    assert [row["employee_number"] for row in inactive.json()["results"]] == ["E-9"]
    assert len(reports.json()["results"]) == 3


def test_bad_filter_answers_400(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/hr/employees/", {"manager": "nope"})

    assert response.status_code == 400


def test_staff_sees_only_own_record_and_reports(api_client):
    me = _employee("E-1", user=persona(TENANT_A, "staff"))
    report = _employee("E-2", manager=me)
    other = _employee("E-3")
    client = api_client(TENANT_A, "staff")

    listed = client.get("/api/v1/hr/employees/")
    hidden = client.get(f"/api/v1/hr/employees/{other.pk}/")

    assert {row["id"] for row in listed.json()["results"]} == {str(me.pk), str(report.pk)}
    assert hidden.status_code == 404
    assert error_of(hidden)["code"] == "not_found"


def test_staff_cannot_change_employees(api_client):
    me = _employee("E-1", user=persona(TENANT_A, "staff"))

    response = api_client(TENANT_A, "staff").patch(
        f"/api/v1/hr/employees/{me.pk}/", {"first_name": "Boss"}, format="json"
    )

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    with in_tenant(TENANT_A):
        assert Employee.objects.get(pk=me.pk).first_name == "F"


def test_me_returns_own_record_or_404(api_client):
    client = api_client(TENANT_A, "outsider")
    assert client.get("/api/v1/hr/employees/me/").status_code == 404

    me = _employee("E-1", user=persona(TENANT_A, "outsider"))
    response = client.get("/api/v1/hr/employees/me/")

    assert response.status_code == 200
    assert response.json()["id"] == str(me.pk)


def test_location_with_bad_coordinates_answers_400(api_client):
    body = {"name": "HQ", "latitude": 95, "longitude": 0, "radius_m": 0, "time_zone": "UTC"}

    response = api_client(TENANT_A, "admin").post("/api/v1/hr/locations/", body, format="json")

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"latitude", "radius_m"}


def test_location_create_answers_201(api_client):
    body = {
        "name": "HQ",
        "latitude": 40.7484,
        "longitude": -73.9857,
        "radius_m": 150,
        "time_zone": "America/New_York",
    }

    response = api_client(TENANT_A, "admin").post("/api/v1/hr/locations/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["latitude"] == "40.748400"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/hr/employees/",
        "/api/v1/hr/employees/me/",
        "/api/v1/hr/departments/",
        "/api/v1/hr/positions/",
        "/api/v1/hr/locations/",
    ],
)
def test_tenant_without_hr_answers_404(api_client, path):
    response = api_client(TENANT_B, "admin").get(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def _admin_client(schema_name: str) -> Client:
    client = Client(HTTP_HOST=HOSTS[schema_name])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_admin_pages_are_there_with_the_module():
    _employee("E-1")

    response = _admin_client(TENANT_A).get("/admin/hr/employee/")

    assert response.status_code == 200
    assert "E-1" in response.content.decode()


def test_admin_pages_are_hidden_without_the_module():
    response = _admin_client(TENANT_B).get("/admin/hr/employee/")

    assert response.status_code == 403
