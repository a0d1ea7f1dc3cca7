"""apps.core.scopes.scope_filter over real querysets of accounts rows."""

from __future__ import annotations

import pytest
from django.db.models import Q

from apps.accounts import selectors, services
from apps.accounts.models import ScopeGrant, User
from apps.core.scopes import scope_filter
from apps.core.types import Actor
from tests.fixtures import persona
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db

BYPASS = "accounts.view_scopegrant"


@pytest.fixture
def department_rows(in_tenant_a) -> dict[str, ScopeGrant]:
    """One ScopeGrant row per department, held by the outsider: the rows to filter."""
    outsider = persona(TENANT_A, "outsider")
    for department in ("d1", "d2", "d3"):
        services.scope_grant(
            actor=None, user=outsider, scope_type="department", scope_value=department
        )
    return {grant.scope_value: grant for grant in ScopeGrant.objects.filter(user=outsider)}


def _departments(queryset) -> list[str]:
    return sorted(queryset.values_list("scope_value", flat=True))


def _rows(department_rows):
    return ScopeGrant.objects.filter(pk__in=[row.pk for row in department_rows.values()])


def _actor(*, scopes=None, permissions=()) -> Actor:
    return Actor(
        user=persona(TENANT_A, "staff"),
        schema_name=TENANT_A,
        permissions=frozenset(permissions),
        scopes=scopes or {},
    )


def test_actor_with_grants_sees_only_granted_rows(department_rows):
    staff = persona(TENANT_A, "staff")
    services.scope_grant(actor=None, user=staff, scope_type="department", scope_value="d1")
    services.scope_grant(actor=None, user=staff, scope_type="department", scope_value="d3")
    actor = selectors.actor_for_user(user=staff)

    visible = scope_filter(
        _rows(department_rows), actor=actor, scope_type="department", field="scope_value"
    )

    assert _departments(visible) == ["d1", "d3"]


def test_actor_without_grants_sees_nothing(department_rows):
    actor = _actor()

    visible = scope_filter(
        _rows(department_rows), actor=actor, scope_type="department", field="scope_value"
    )

    assert _departments(visible) == []


def test_grants_of_another_scope_type_do_not_count(department_rows):
    actor = _actor(scopes={"zone": frozenset({"d1", "d2"})})

    visible = scope_filter(
        _rows(department_rows), actor=actor, scope_type="department", field="scope_value"
    )

    assert _departments(visible) == []


def test_bypass_permission_sees_every_row(department_rows):
    actor = _actor(permissions=[BYPASS])

    visible = scope_filter(
        _rows(department_rows),
        actor=actor,
        scope_type="department",
        field="scope_value",
        bypass_permission=BYPASS,
    )

    assert _departments(visible) == ["d1", "d2", "d3"]


def test_bypass_permission_not_held_filters(department_rows):
    actor = _actor(scopes={"department": frozenset({"d2"})}, permissions=["accounts.view_user"])

    visible = scope_filter(
        _rows(department_rows),
        actor=actor,
        scope_type="department",
        field="scope_value",
        bypass_permission=BYPASS,
    )

    assert _departments(visible) == ["d2"]


def test_extra_widens_the_granted_rows(department_rows):
    actor = _actor(scopes={"department": frozenset({"d1"})})

    visible = scope_filter(
        _rows(department_rows),
        actor=actor,
        scope_type="department",
        field="scope_value",
        extra=Q(scope_value="d3"),
    )

    assert _departments(visible) == ["d1", "d3"]


def test_extra_alone_applies_to_an_actor_without_grants(department_rows):
    actor = _actor()

    visible = scope_filter(
        _rows(department_rows),
        actor=actor,
        scope_type="department",
        field="scope_value",
        extra=Q(scope_value="d2"),
    )

    assert _departments(visible) == ["d2"]


def test_scope_filter_through_a_relation_on_users(in_tenant_a):
    services.scope_grant(
        actor=None, user=persona(TENANT_A, "admin"), scope_type="team", scope_value="red"
    )
    services.scope_grant(
        actor=None, user=persona(TENANT_A, "outsider"), scope_type="team", scope_value="blue"
    )
    actor = _actor(scopes={"team": frozenset({"red"})})

    visible = scope_filter(
        User.objects.all(),
        actor=actor,
        scope_type="team",
        field="scope_grants__scope_value",
        extra=Q(pk=actor.user.pk),
    )

    assert sorted(visible.values_list("username", flat=True)) == ["admin", "staff"]


def test_scope_filter_keeps_the_queryset_lazy_and_chainable(department_rows):
    actor = _actor(scopes={"department": frozenset({"d1", "d2"})})

    visible = scope_filter(
        _rows(department_rows), actor=actor, scope_type="department", field="scope_value"
    ).exclude(scope_value="d1")

    assert _departments(visible) == ["d2"]


def test_scope_filter_through_a_relation_returns_each_row_once(in_tenant_a):
    admin = persona(TENANT_A, "admin")
    for team in ("red", "green"):
        services.scope_grant(actor=None, user=admin, scope_type="team", scope_value=team)
    actor = _actor(scopes={"team": frozenset({"red", "green"})})

    visible = scope_filter(
        User.objects.all(), actor=actor, scope_type="team", field="scope_grants__scope_value"
    )

    assert list(visible.values_list("username", flat=True)) == ["admin"]
    assert visible.count() == 1


def test_scope_filter_through_a_foreign_key(department_rows):
    staff = persona(TENANT_A, "staff")
    services.scope_grant(actor=None, user=staff, scope_type="department", scope_value="d1")
    actor = _actor(scopes={"person": frozenset({"staff"})})

    visible = scope_filter(
        ScopeGrant.objects.all(), actor=actor, scope_type="person", field="user__username"
    )

    assert [(grant.user, grant.scope_value) for grant in visible] == [(staff, "d1")]
