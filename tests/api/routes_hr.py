"""Cross-tenant specs for /api/v1/hr/ (merged into tests.api.routes.ROUTES).

Rows are made with the ORM in B's schema; test_cross_tenant switches the hr module on for
B during these tests, so the checks reach the views rather than the module gate.
"""

from __future__ import annotations

import uuid
from datetime import date

from tests.api.routes import Spec


def _marker(kind: str) -> str:
    return f"xt-{kind}-{uuid.uuid4().hex[:8]}"


def _make_department() -> tuple[dict, str]:
    from apps.hr.models import Department

    marker = _marker("department")
    return {"department_id": Department.objects.create(name=marker).pk}, marker


def _department_intact(marker: str) -> bool:
    from apps.hr.models import Department

    return Department.objects.filter(name=marker, parent=None).exists()


def _make_position() -> tuple[dict, str]:
    from apps.hr.models import Position

    marker = _marker("position")
    return {"position_id": Position.objects.create(title=marker).pk}, marker


def _position_intact(marker: str) -> bool:
    from apps.hr.models import Position

    return Position.objects.filter(title=marker, description="").exists()


def _make_location() -> tuple[dict, str]:
    from apps.hr.models import WorkLocation

    marker = _marker("location")
    location = WorkLocation.objects.create(
        name=marker, latitude=51.5, longitude=-0.12, radius_m=150, time_zone="Europe/London"
    )
    return {"location_id": location.pk}, marker


def _location_intact(marker: str) -> bool:
    from apps.hr.models import WorkLocation

    return WorkLocation.objects.filter(name=marker, radius_m=150).exists()


def _make_employee() -> tuple[dict, str]:
    from apps.hr.models import Employee

    marker = _marker("employee")
    employee = Employee.objects.create(
        employee_number=marker[-12:],
        first_name=marker,
        last_name="Crosstenant",
        employment_start=date(2024, 1, 1),
    )
    return {"employee_id": employee.pk}, marker


def _employee_intact(marker: str) -> bool:
    from apps.hr.models import Employee

    return Employee.objects.filter(first_name=marker, last_name="Crosstenant").exists()


ROUTES: dict[str, Spec] = {
    "api/v1/hr/departments/": Spec(make=_make_department, intact=_department_intact),
    "api/v1/hr/departments/<uuid:department_id>/": Spec(
        make=_make_department, write_body={"name": "taken over"}, intact=_department_intact
    ),
    "api/v1/hr/positions/": Spec(make=_make_position, intact=_position_intact),
    "api/v1/hr/positions/<uuid:position_id>/": Spec(
        make=_make_position, write_body={"title": "taken over"}, intact=_position_intact
    ),
    "api/v1/hr/locations/": Spec(make=_make_location, intact=_location_intact),
    "api/v1/hr/locations/<uuid:location_id>/": Spec(
        make=_make_location, write_body={"radius_m": 5}, intact=_location_intact
    ),
    "api/v1/hr/employees/": Spec(make=_make_employee, intact=_employee_intact),
    "api/v1/hr/employees/me/": Spec(make=None),
    "api/v1/hr/employees/<uuid:employee_id>/": Spec(
        make=_make_employee, write_body={"first_name": "taken"}, intact=_employee_intact
    ),
}
