"""HR services: validation, normalisation, cycles, soft delete, permissions."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.core.errors import PermissionDeniedError
from apps.hr import services
from apps.hr.errors import (
    DepartmentCycleError,
    DepartmentInUseError,
    EmployeeHasReportsError,
    EmployeeNumberTakenError,
    ManagerCycleError,
    UserAlreadyLinkedError,
)
from apps.hr.models import Department, Employee, WorkLocation
from apps.hr.phone import PhoneInvalidError, phone_normalize
from apps.hr.tests.conftest import actor_of
from tests.fixtures import persona
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (212) 555-0123", "+12125550123"),
        ("  ", ""),
    ],
)
def test_phone_normalize_gives_e164(raw, expected):
    assert phone_normalize(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "+1 555", "not a phone", "020 7946 0958"])
def test_phone_normalize_refuses_invalid_numbers(raw):
    with pytest.raises(PhoneInvalidError):
        phone_normalize(raw)


def test_employee_create_stores_e164_phone_and_links(admin_actor):
    department = Department.objects.create(name="Ops")
    location = WorkLocation.objects.create(
        name="HQ", latitude=40.7, longitude=-74.0, radius_m=100, time_zone="America/New_York"
    )

    employee = services.employee_create(
        actor=admin_actor,
        employee_number="E-1",
        first_name="Ada",
        last_name="Lovelace",
        employment_start=date(2024, 3, 1),
        phone="+1 212 555 0123",
        department=department.pk,
        work_time_zone="America/New_York",
        allowed_locations=[location.pk],
    )

    stored = Employee.objects.get(pk=employee.pk)
    assert stored.phone == "+12125550123"
    assert stored.department == department
    assert stored.work_time_zone == "America/New_York"
    assert list(stored.allowed_locations.all()) == [location]
    assert stored.created_by == admin_actor.user


def test_employee_create_reports_every_bad_field(admin_actor):
    with pytest.raises(ValidationError) as raised:
        services.employee_create(
            actor=admin_actor,
            employee_number="E-1",
            first_name="Ada",
            last_name="Lovelace",
            employment_start=date(2024, 3, 1),
            employment_end=date(2024, 2, 1),
            phone="555",
            work_time_zone="Mars/Olympus",
            department="00000000-0000-4000-8000-000000000999",
        )

    assert set(raised.value.message_dict) == {
        "employment_end",
        "phone",
        "work_time_zone",
        "department",
    }
    assert not Employee.all_objects.exists()


def test_employee_number_is_unique_even_after_soft_delete(admin_actor, make_employee):
    old = make_employee("E-1")
    services.employee_delete(actor=admin_actor, employee=old)

    with pytest.raises(EmployeeNumberTakenError):
        services.employee_create(
            actor=admin_actor,
            employee_number="E-1",
            first_name="New",
            last_name="Person",
            employment_start=date(2025, 1, 1),
        )


def test_a_user_belongs_to_one_employee(admin_actor, make_employee):
    user = persona(TENANT_A, "staff")
    make_employee("E-1", user=user)

    with pytest.raises(UserAlreadyLinkedError):
        services.employee_create(
            actor=admin_actor,
            employee_number="E-2",
            first_name="B",
            last_name="C",
            employment_start=date(2025, 1, 1),
            user=user.pk,
        )


def test_manager_cycle_is_refused_at_any_depth(admin_actor, make_employee):
    top = make_employee("E-1")
    middle = make_employee("E-2", manager=top)
    bottom = make_employee("E-3", manager=middle)

    with pytest.raises(ManagerCycleError):
        services.employee_update(actor=admin_actor, employee=top, data={"manager": bottom.pk})

    top.refresh_from_db()
    assert top.manager is None


def test_employee_cannot_manage_themselves(admin_actor, make_employee):
    employee = make_employee("E-1")

    with pytest.raises(ManagerCycleError):
        services.employee_update(
            actor=admin_actor, employee=employee, data={"manager": employee.pk}
        )


def test_end_before_start_is_also_refused_by_the_database(make_employee):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_employee("E-1", employment_start=date(2024, 5, 1), employment_end=date(2024, 4, 1))


def test_location_ranges_are_checked_by_the_database(in_tenant_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkLocation.objects.create(
            name="Nowhere", latitude=91, longitude=0, radius_m=10, time_zone="UTC"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkLocation.objects.create(
            name="Nowhere", latitude=0, longitude=0, radius_m=0, time_zone="UTC"
        )


def test_work_location_create_refuses_unknown_time_zone(admin_actor):
    with pytest.raises(ValidationError) as raised:
        services.work_location_create(
            actor=admin_actor,
            name="HQ",
            latitude=1,
            longitude=2,
            radius_m=100,
            time_zone="Europe/Atlantis",
        )

    assert list(raised.value.message_dict) == ["time_zone"]
    assert not WorkLocation.objects.exists()


def test_department_cycle_is_refused(admin_actor):
    root = services.department_create(actor=admin_actor, name="Root")
    child = services.department_create(actor=admin_actor, name="Child", parent_id=root.pk)
    grandchild = services.department_create(actor=admin_actor, name="Grand", parent_id=child.pk)

    with pytest.raises(DepartmentCycleError):
        services.department_update(
            actor=admin_actor, department=root, data={"parent": grandchild.pk}
        )

    root.refresh_from_db()
    assert root.parent is None


def test_department_in_use_cannot_be_deleted(admin_actor, make_employee):
    department = services.department_create(actor=admin_actor, name="Ops")
    make_employee("E-1", department=department)

    with pytest.raises(DepartmentInUseError):
        services.department_delete(actor=admin_actor, department=department)

    assert Department.objects.filter(pk=department.pk).exists()


def test_employee_delete_is_soft(admin_actor, make_employee):
    employee = make_employee("E-1")

    services.employee_delete(actor=admin_actor, employee=employee)

    assert not Employee.objects.filter(pk=employee.pk).exists()
    assert Employee.all_objects.get(pk=employee.pk).deleted_at is not None


def test_employee_with_reports_cannot_be_deleted(admin_actor, make_employee):
    boss = make_employee("E-1")
    make_employee("E-2", manager=boss)

    with pytest.raises(EmployeeHasReportsError):
        services.employee_delete(actor=admin_actor, employee=boss)

    assert Employee.objects.filter(pk=boss.pk).exists()


def test_staff_cannot_write(in_tenant_a):
    staff = actor_of(TENANT_A, "staff")

    with pytest.raises(PermissionDeniedError):
        services.department_create(actor=staff, name="Ops")

    assert not Department.objects.exists()


def test_tenant_admin_holds_every_hr_permission(in_tenant_a):
    admin = actor_of(TENANT_A, "admin")
    staff = actor_of(TENANT_A, "staff")

    expected = {
        f"hr.{verb}_{model}"
        for verb in ("add", "change", "delete", "view")
        for model in ("department", "position", "worklocation", "employee")
    } | {"hr.access_all_employees"}
    assert expected <= admin.permissions
    assert "hr.view_employee" in staff.permissions
    assert "hr.access_all_employees" not in staff.permissions
