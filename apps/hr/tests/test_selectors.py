"""Who sees which employee: own record, reports at any depth, HR admins everyone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import ScopeGrant
from apps.core.errors import NotFoundError, PermissionDeniedError
from apps.hr import selectors
from apps.hr.models import Department
from apps.hr.tests.conftest import actor_of
from tests.fixtures import persona
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(make_employee):
    """staff manages two people, one of whom manages a third; two others are unrelated."""
    staff = make_employee("S", user=persona(TENANT_A, "staff"))
    direct = make_employee("D", manager=staff)
    indirect = make_employee("I", manager=direct)
    boss = make_employee("B")
    staff.manager = boss
    staff.save()
    peer = make_employee("P", manager=boss)
    return {"staff": staff, "direct": direct, "indirect": indirect, "boss": boss, "peer": peer}


def _numbers(queryset) -> set[str]:
    return set(queryset.values_list("employee_number", flat=True))


def test_manager_sees_self_and_reports_transitively(org):
    actor = actor_of(TENANT_A, "staff")

    assert _numbers(selectors.employee_list(actor=actor)) == {"S", "D", "I"}


def test_report_set_takes_one_query_at_any_depth(org):
    with CaptureQueriesContext(connection) as queries:
        ids = selectors.employee_report_ids(employee=org["boss"])

    assert ids == {org[name].pk for name in ("staff", "direct", "indirect", "peer")}
    assert len(queries) == 1


def test_soft_deleted_reports_are_not_visible(org):
    from apps.hr.models import Employee

    Employee.objects.filter(pk=org["indirect"].pk).update(deleted_at="2025-01-01T00:00:00Z")
    actor = actor_of(TENANT_A, "staff")

    assert _numbers(selectors.employee_list(actor=actor)) == {"S", "D"}


def test_hr_admin_sees_everyone(org):
    actor = actor_of(TENANT_A, "admin")

    assert _numbers(selectors.employee_list(actor=actor)) == {"S", "D", "I", "B", "P"}


def test_department_scope_grant_widens_the_view(org):
    department = Department.objects.create(name="Ops")
    org["peer"].department = department
    org["peer"].save()
    ScopeGrant.objects.create(
        user=persona(TENANT_A, "staff"), scope_type="department", scope_value=str(department.pk)
    )
    actor = actor_of(TENANT_A, "staff")

    assert _numbers(selectors.employee_list(actor=actor)) == {"S", "D", "I", "P"}


def test_someone_elses_record_is_not_found(org):
    actor = actor_of(TENANT_A, "staff")

    with pytest.raises(NotFoundError):
        selectors.employee_get(actor=actor, employee_id=org["boss"].pk)


def test_without_view_permission_nothing_is_listed(org):
    outsider = actor_of(TENANT_A, "outsider")

    with pytest.raises(PermissionDeniedError):
        selectors.employee_list(actor=outsider)


def test_own_record_needs_no_permission(make_employee):
    employee = make_employee("O", user=persona(TENANT_A, "outsider"))

    assert selectors.employee_get_own(actor=actor_of(TENANT_A, "outsider")) == employee
