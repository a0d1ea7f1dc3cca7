"""The HR admin applies the services' rules: cycles refused, deletes are soft."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from apps.core.tenancy import in_tenant
from apps.hr.models import Employee
from tests.personas import HOSTS, PASSWORD, TENANT_A

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client(HTTP_HOST=HOSTS[TENANT_A])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


def _employee(number: str, **fields) -> Employee:
    with in_tenant(TENANT_A):
        return Employee.objects.create(
            employee_number=number,
            first_name="F",
            last_name=number,
            employment_start=date(2024, 1, 1),
            **fields,
        )


def _form(employee: Employee, **changes) -> dict:
    data = {
        "employee_number": employee.employee_number,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "email": "",
        "phone": "",
        "employment_start": "2024-01-01",
        "work_time_zone": "UTC",
    }
    data.update(changes)
    return data


def test_change_form_refuses_a_manager_cycle(admin_client):
    top = _employee("E-1")
    below = _employee("E-2", manager=top)

    response = admin_client.post(
        f"/admin/hr/employee/{top.pk}/change/", _form(top, manager=str(below.pk))
    )

    assert response.status_code == 200  # the form again, with the error
    assert "cannot report to one of their reports" in response.content.decode()
    with in_tenant(TENANT_A):
        assert Employee.objects.get(pk=top.pk).manager_id is None


def test_change_form_normalises_the_phone(admin_client):
    employee = _employee("E-1")

    response = admin_client.post(
        f"/admin/hr/employee/{employee.pk}/change/", _form(employee, phone="+1 212 555 0123")
    )

    assert response.status_code == 302
    with in_tenant(TENANT_A):
        assert Employee.objects.get(pk=employee.pk).phone == "+12125550123"


def test_delete_in_the_admin_is_soft(admin_client):
    employee = _employee("E-1")

    response = admin_client.post(f"/admin/hr/employee/{employee.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    with in_tenant(TENANT_A):
        assert Employee.all_objects.get(pk=employee.pk).deleted_at is not None
