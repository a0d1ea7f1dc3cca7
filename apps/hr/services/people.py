"""Writes for HR: departments, positions, work locations and employees.

Every service checks the actor's permission itself, so the API, the admin and commands
share the rules. Invalid input raises Django's ValidationError with field names (400);
broken invariants (cycles, records in use, taken numbers) raise apps.hr.errors (409).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.selectors import require_perm
from apps.core.types import Actor
from apps.hr.errors import (
    DepartmentCycleError,
    DepartmentInUseError,
    EmployeeHasReportsError,
    EmployeeNumberTakenError,
    ManagerCycleError,
    NameTakenError,
    PositionInUseError,
    UserAlreadyLinkedError,
)
from apps.hr.models import Department, Employee, Position, WorkLocation
from apps.hr.phone import PhoneInvalidError, phone_normalize
from apps.hr.selectors import people as selectors
from apps.hr.services.common import audit_fields

# Transaction-level advisory locks serialise changes to one tree, so two concurrent edits
# (A under B, B under A) cannot each pass the cycle check and together form a cycle.
_DEPARTMENT_TREE_LOCK = 7_301_001
_MANAGER_TREE_LOCK = 7_301_002


@lru_cache(maxsize=1)
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_validate(name: str, *, field: str) -> str:
    """``name`` if it is an IANA time zone zoneinfo knows; ValidationError otherwise.

    Checked against the list of names rather than by constructing ZoneInfo(name), which
    also accepts file paths and fails in several different ways on odd input.
    """
    if name not in _time_zone_names():
        raise ValidationError({field: [f"Unknown time zone {name!r}; use an IANA name."]})
    zoneinfo.ZoneInfo(name)
    return name


def _lock_tree(key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _unique_save(instance: Any, *, error: type[Exception], **details: Any) -> None:
    """Save; a unique violation (also one that raced past the pre-check) becomes ``error``."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as integrity_error:
        raise error(**details) from integrity_error


# --- departments ---------------------------------------------------------------------------


def _department_parent_check(*, department: Department | None, parent: Department | None) -> None:
    if parent is None or department is None or department.pk is None:
        return
    if parent.pk == department.pk or parent.pk in selectors.department_descendant_ids(
        department=department
    ):
        raise DepartmentCycleError(department_id=department.pk, parent_id=parent.pk)


def _department_resolve(department_id: object, *, field: str) -> Department | None:
    if department_id is None:
        return None
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise ValidationError({field: ["Unknown department."]})
    return department


@transaction.atomic
def department_create(*, actor: Actor, name: str, parent_id: object = None) -> Department:
    require_perm(actor, "hr.add_department")
    parent = _department_resolve(parent_id, field="parent")
    department = Department(name=name, parent=parent)
    audit_fields(department, actor, created=True)
    _unique_save(department, error=NameTakenError, name=name)
    return department


@transaction.atomic
def department_update(
    *, actor: Actor, department: Department, data: Mapping[str, Any]
) -> Department:
    """Raises DepartmentCycleError when the new parent lies below the department."""
    require_perm(actor, "hr.change_department")
    if "name" in data:
        department.name = data["name"]
    if "parent" in data:
        _lock_tree(_DEPARTMENT_TREE_LOCK)
        parent = _department_resolve(data["parent"], field="parent")
        _department_parent_check(department=department, parent=parent)
        department.parent = parent
    audit_fields(department, actor, created=False)
    _unique_save(department, error=NameTakenError, name=department.name)
    return department


@transaction.atomic
def department_delete(*, actor: Actor, department: Department) -> None:
    require_perm(actor, "hr.delete_department")
    if department.children.exists() or Employee.all_objects.filter(department=department).exists():
        raise DepartmentInUseError(department_id=department.pk)
    department.delete()


# --- positions -----------------------------------------------------------------------------


@transaction.atomic
def position_create(*, actor: Actor, title: str, description: str = "") -> Position:
    require_perm(actor, "hr.add_position")
    position = Position(title=title, description=description)
    audit_fields(position, actor, created=True)
    _unique_save(position, error=NameTakenError, title=title)
    return position


@transaction.atomic
def position_update(*, actor: Actor, position: Position, data: Mapping[str, Any]) -> Position:
    require_perm(actor, "hr.change_position")
    for name in ("title", "description"):
        if name in data:
            setattr(position, name, data[name])
    audit_fields(position, actor, created=False)
    _unique_save(position, error=NameTakenError, title=position.title)
    return position


@transaction.atomic
def position_delete(*, actor: Actor, position: Position) -> None:
    require_perm(actor, "hr.delete_position")
    if Employee.all_objects.filter(position=position).exists():
        raise PositionInUseError(position_id=position.pk)
    position.delete()


# --- work locations ------------------------------------------------------------------------

WORK_LOCATION_FIELDS = ("name", "address", "latitude", "longitude", "radius_m", "time_zone")


def _work_location_apply(location: WorkLocation, data: Mapping[str, Any]) -> None:
    for name in WORK_LOCATION_FIELDS:
        if name in data:
            setattr(location, name, data[name])
    errors: dict[str, list[str]] = {}
    if not -90 <= location.latitude <= 90:
        errors["latitude"] = ["From -90 to 90."]
    if not -180 <= location.longitude <= 180:
        errors["longitude"] = ["From -180 to 180."]
    if location.radius_m is None or location.radius_m <= 0:
        errors["radius_m"] = ["A positive number of metres."]
    try:
        time_zone_validate(location.time_zone, field="time_zone")
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def work_location_create(
    *,
    actor: Actor,
    name: str,
    latitude: Decimal,
    longitude: Decimal,
    radius_m: int,
    time_zone: str,
    address: str = "",
) -> WorkLocation:
    require_perm(actor, "hr.add_worklocation")
    location = WorkLocation()
    data = {
        "name": name,
        "address": address,
        "latitude": Decimal(str(latitude)),
        "longitude": Decimal(str(longitude)),
        "radius_m": radius_m,
        "time_zone": time_zone,
    }
    _work_location_apply(location, data)
    audit_fields(location, actor, created=True)
    _unique_save(location, error=NameTakenError, name=location.name)
    return location


@transaction.atomic
def work_location_update(
    *, actor: Actor, location: WorkLocation, data: Mapping[str, Any]
) -> WorkLocation:
    require_perm(actor, "hr.change_worklocation")
    _work_location_apply(location, data)
    audit_fields(location, actor, created=False)
    _unique_save(location, error=NameTakenError, name=location.name)
    return location


@transaction.atomic
def work_location_delete(*, actor: Actor, location: WorkLocation) -> None:
    """Employees allowed only this location simply lose it (the M2M rows go with it)."""
    require_perm(actor, "hr.delete_worklocation")
    location.delete()


# --- employees -----------------------------------------------------------------------------

EMPLOYEE_SCALAR_FIELDS = (
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "employment_start",
    "employment_end",
    "is_geofence_exempt",
)


def _employee_apply(employee: Employee, data: Mapping[str, Any]) -> list[WorkLocation] | None:
    """Validate ``data`` against ``employee`` and set it; every bad field in one
    ValidationError. Returns the new allowed locations, or None when unchanged."""
    errors: dict[str, list[str]] = {}
    for name in EMPLOYEE_SCALAR_FIELDS:
        if name in data:
            setattr(employee, name, data[name])
    if "phone" in data:
        try:
            employee.phone = phone_normalize(data["phone"] or "")
        except PhoneInvalidError:
            errors["phone"] = ["Not a valid phone number; use the international form, +..."]
    if "work_time_zone" in data:
        try:
            employee.work_time_zone = time_zone_validate(
                data["work_time_zone"], field="work_time_zone"
            )
        except ValidationError as error:
            errors.update(error.message_dict)
    if employee.employment_end is not None and employee.employment_end < employee.employment_start:
        errors["employment_end"] = ["Cannot be before employment_start."]
    references = (
        ("department", Department.objects),
        ("position", Position.objects),
        ("manager", Employee.objects),
        ("user", User.objects.filter(is_active=True)),
    )
    for name, manager in references:
        if name in data:
            value = data[name]
            target = manager.filter(pk=value).first() if value is not None else None
            if value is not None and target is None:
                errors[name] = [f"Unknown {name}."]
            setattr(employee, name, target)
    locations: list[WorkLocation] | None = None
    if "allowed_locations" in data:
        wanted = set(data["allowed_locations"] or [])
        locations = list(WorkLocation.objects.filter(pk__in=wanted))
        if len(locations) != len(wanted):
            errors["allowed_locations"] = ["Unknown work location."]
    if errors:
        raise ValidationError(errors)
    return locations


def _employee_manager_check(employee: Employee) -> None:
    manager = employee.manager
    if manager is None or employee.pk is None:
        return
    # Only an existing employee can have reports; a new one cannot close a cycle.
    if manager.pk == employee.pk or manager.pk in selectors.employee_report_ids(employee=employee):
        raise ManagerCycleError(employee_id=employee.pk, manager_id=manager.pk)


def _employee_save(
    employee: Employee, *, actor: Actor, created: bool, locations: Iterable[WorkLocation] | None
) -> Employee:
    if (
        Employee.all_objects.filter(employee_number=employee.employee_number)
        .exclude(pk=employee.pk)
        .exists()
    ):
        raise EmployeeNumberTakenError(employee_number=employee.employee_number)
    if (
        employee.user_id is not None
        and Employee.all_objects.filter(user_id=employee.user_id).exclude(pk=employee.pk).exists()
    ):
        raise UserAlreadyLinkedError(user_id=employee.user_id)
    audit_fields(employee, actor, created=created)
    _unique_save(employee, error=EmployeeNumberTakenError, employee_number=employee.employee_number)
    if locations is not None:
        employee.allowed_locations.set(locations)
    return employee


@transaction.atomic
def employee_create(
    *,
    actor: Actor,
    employee_number: str,
    first_name: str,
    last_name: str,
    employment_start: Any,
    **optional: Any,
) -> Employee:
    """``optional``: email, phone, department, position, manager, user (ids),
    allowed_locations (ids), employment_end, work_time_zone, is_geofence_exempt.

    Raises ValidationError (400) for bad fields, EmployeeNumberTakenError and
    UserAlreadyLinkedError (409).
    """
    require_perm(actor, "hr.add_employee")
    data = {
        "employee_number": employee_number,
        "first_name": first_name,
        "last_name": last_name,
        "employment_start": employment_start,
        **optional,
    }
    employee = Employee(work_time_zone="UTC")
    locations = _employee_apply(employee, data)
    return _employee_save(employee, actor=actor, created=True, locations=locations)


@transaction.atomic
def employee_update(*, actor: Actor, employee: Employee, data: Mapping[str, Any]) -> Employee:
    """Partial update with the fields of employee_create; a new manager that reports to
    this employee (at any depth) raises ManagerCycleError (409)."""
    require_perm(actor, "hr.change_employee")
    if "manager" in data:
        _lock_tree(_MANAGER_TREE_LOCK)
    locations = _employee_apply(employee, data)
    if "manager" in data:
        _employee_manager_check(employee)
    return _employee_save(employee, actor=actor, created=False, locations=locations)


@transaction.atomic
def employee_delete(*, actor: Actor, employee: Employee) -> None:
    """Soft delete: the row stays (history, payroll) with ``deleted_at`` set. Refused
    while the employee still manages someone, so nobody reports to a deleted person."""
    require_perm(actor, "hr.delete_employee")
    _lock_tree(_MANAGER_TREE_LOCK)
    if Employee.objects.filter(manager=employee).exists():
        raise EmployeeHasReportsError(employee_id=employee.pk)
    employee.deleted_at = timezone.now()
    audit_fields(employee, actor, created=False)
    employee.save(update_fields=["deleted_at", "updated_by", "updated_at"])
