"""Reads for HR, and who may see which employee.

Row scope of employees: an HR admin (``hr.access_all_employees``) sees everyone; anyone
else with ``hr.view_employee`` sees their own record, their reports transitively, and the
employees of departments granted to them as ``department`` scopes (ScopeGrant). This is
``apps.core.scopes.scope_filter`` with the own-and-reports set as its ``extra``.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.scopes import scope_filter
from apps.core.types import Actor
from apps.hr.models import Department, Employee, Position, WorkLocation

ALL_EMPLOYEES_PERMISSION = "hr.access_all_employees"


# --- trees ---------------------------------------------------------------------------------


def _descendant_ids(*, table: str, parent_column: str, root_id: object, alive: bool) -> set:
    """Ids below ``root_id`` in a self-referencing table, at any depth, in one query.

    A recursive CTE instead of a query per level. ``UNION`` (not ``UNION ALL``) stops at
    rows already seen, so even a cycle that slipped into the data cannot loop forever.
    ``table`` and ``parent_column`` come from model metadata, never from input.
    """
    root_alive = "AND deleted_at IS NULL" if alive else ""
    child_alive = "AND child.deleted_at IS NULL" if alive else ""
    sql = f"""
        WITH RECURSIVE below(id) AS (
            SELECT id FROM {table} WHERE {parent_column} = %s {root_alive}
            UNION
            SELECT child.id FROM {table} child JOIN below ON child.{parent_column} = below.id
            WHERE TRUE {child_alive}
        )
        SELECT id FROM below
    """  # noqa: S608 - identifiers from model metadata only
    with connection.cursor() as cursor:
        cursor.execute(sql, [root_id])
        return {row[0] for row in cursor.fetchall()}


def employee_report_ids(*, employee: Employee) -> set:
    """Ids of the employees who report to ``employee``, directly or through others."""
    return _descendant_ids(
        table=Employee._meta.db_table, parent_column="manager_id", root_id=employee.pk, alive=True
    )


def department_descendant_ids(*, department: Department) -> set:
    return _descendant_ids(
        table=Department._meta.db_table,
        parent_column="parent_id",
        root_id=department.pk,
        alive=False,
    )


# --- employees -----------------------------------------------------------------------------


def employee_for_user(*, user: object) -> Employee | None:
    return Employee.objects.filter(user=user).first()


def employee_list(*, actor: Actor) -> QuerySet[Employee]:
    require_perm(actor, "hr.view_employee")
    queryset = Employee.objects.select_related("department", "position", "manager", "user")
    queryset = queryset.prefetch_related("allowed_locations")
    if actor.has_perm(ALL_EMPLOYEES_PERMISSION):
        return queryset
    own = employee_for_user(user=actor.user)
    visible = {own.pk, *employee_report_ids(employee=own)} if own else set()
    return scope_filter(
        queryset,
        actor=actor,
        scope_type="department",
        field="department_id",
        bypass_permission=ALL_EMPLOYEES_PERMISSION,
        extra=Q(pk__in=visible),
    )


def employee_get(*, actor: Actor, employee_id: object) -> Employee:
    employee = employee_list(actor=actor).filter(pk=employee_id).first()
    if employee is None:
        raise NotFoundError()
    return employee


def employee_get_own(*, actor: Actor) -> Employee:
    """The caller's own employee record; no permission beyond being that person."""
    employee = (
        Employee.objects.select_related("department", "position", "manager", "user")
        .prefetch_related("allowed_locations")
        .filter(user=actor.user)
        .first()
    )
    if employee is None:
        raise NotFoundError()
    return employee


# --- departments, positions, locations ------------------------------------------------------


def department_list(*, actor: Actor) -> QuerySet[Department]:
    require_perm(actor, "hr.view_department")
    return Department.objects.all()


def department_get(*, actor: Actor, department_id: object) -> Department:
    department = department_list(actor=actor).filter(pk=department_id).first()
    if department is None:
        raise NotFoundError()
    return department


def position_list(*, actor: Actor) -> QuerySet[Position]:
    require_perm(actor, "hr.view_position")
    return Position.objects.all()


def position_get(*, actor: Actor, position_id: object) -> Position:
    position = position_list(actor=actor).filter(pk=position_id).first()
    if position is None:
        raise NotFoundError()
    return position


def work_location_list(*, actor: Actor) -> QuerySet[WorkLocation]:
    require_perm(actor, "hr.view_worklocation")
    return WorkLocation.objects.all()


def work_location_get(*, actor: Actor, location_id: object) -> WorkLocation:
    location = work_location_list(actor=actor).filter(pk=location_id).first()
    if location is None:
        raise NotFoundError()
    return location
