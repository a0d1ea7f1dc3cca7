"""Helpers for the HR tests; tenants and personas come from tests.fixtures."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.personas import TENANT_A


def error_of(response: Any) -> dict[str, Any]:
    return response.json()["error"]


def actor_of(schema_name: str, name: str):
    """The Actor of persona ``name`` in ``schema_name``, as the API would build it."""
    from apps.accounts.selectors import actor_for_user
    from apps.core.tenancy import in_tenant
    from tests.fixtures import persona

    with in_tenant(schema_name):
        return actor_for_user(user=persona(schema_name, name))


@pytest.fixture
def admin_actor(in_tenant_a):
    return actor_of(TENANT_A, "admin")


@pytest.fixture
def make_employee(in_tenant_a):
    """``make_employee("E1", manager=boss, user=...)``: an employee row in tenant A."""
    from apps.hr.models import Employee

    def make(number: str, **fields: Any) -> Employee:
        values = {
            "employee_number": number,
            "first_name": f"First{number}",
            "last_name": f"Last{number}",
            "employment_start": date(2024, 1, 1),
        }
        values.update(fields)
        return Employee.objects.create(**values)

    return make
