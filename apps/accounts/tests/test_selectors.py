"""Selectors: the Actor built for a user, lookups that never cross tenants."""

from __future__ import annotations

import pytest

from apps.accounts import selectors, services
from apps.accounts.models import Role, User
from apps.accounts.tests.conftest import actor_of
from apps.core.errors import NotFoundError, PermissionDeniedError, TenantContextMissingError
from apps.core.tenancy import in_tenant
from apps.core.types import Actor
from tests.fixtures import persona
from tests.personas import PERSONAS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def test_actor_for_user_collects_roles_permissions_and_scopes(in_tenant_a):
    staff = persona(TENANT_A, "staff")
    services.scope_grant(actor=None, user=staff, scope_type="department", scope_value="d1")
    services.scope_grant(actor=None, user=staff, scope_type="department", scope_value="d2")
    expected_permissions = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Role.objects.get(slug="staff").permissions.select_related("content_type")
    }

    actor = selectors.actor_for_user(user=staff)

    assert actor.user == staff
    assert actor.schema_name == TENANT_A
    assert actor.roles == frozenset({"staff"})
    assert actor.permissions == frozenset(expected_permissions)
    assert actor.scopes == {"department": frozenset({"d1", "d2"})}


def test_actor_of_inactive_user_has_no_permissions(in_tenant_a):
    admin = persona(TENANT_A, "admin")
    admin.is_active = False
    admin.save()

    actor = selectors.actor_for_user(user=admin)

    assert actor.roles == frozenset({"tenant_admin"})
    assert actor.permissions == frozenset()
    assert actor.has_perm("accounts.add_role") is False


def test_actor_for_user_outside_a_tenant_fails_closed():
    user = User(username="ghost")

    with pytest.raises(TenantContextMissingError):
        selectors.actor_for_user(user=user)


def test_actor_has_perm_and_has_any_perm():
    actor = Actor(user=None, schema_name=TENANT_A, permissions=frozenset({"accounts.view_user"}))

    assert actor.has_perm("accounts.view_user") is True
    assert actor.has_perm("accounts.change_user") is False
    assert actor.has_any_perm("accounts.change_user", "accounts.view_user") is True
    assert actor.has_any_perm("accounts.change_user", "accounts.delete_user") is False
    assert actor.has_any_perm() is False


def test_require_perm_raises_with_the_missing_permission():
    actor = Actor(user=None, schema_name=TENANT_A)

    with pytest.raises(PermissionDeniedError) as raised:
        selectors.require_perm(actor, "accounts.view_user")

    assert raised.value.details == {"permission": "accounts.view_user"}


def test_user_get_of_another_tenants_user_is_not_found():
    with in_tenant(TENANT_B):
        beta_only = User.objects.create(username="beta-only")
    actor = actor_of(TENANT_A, "admin")

    with in_tenant(TENANT_A), pytest.raises(NotFoundError):
        selectors.user_get(actor=actor, user_id=beta_only.pk)


def test_user_get_by_shared_persona_id_returns_the_own_tenants_row():
    actor = actor_of(TENANT_B, "admin")

    with in_tenant(TENANT_B):
        user = selectors.user_get(actor=actor, user_id=PERSONAS["staff"][0])
        in_beta = User.objects.get(username="staff")

    assert user == in_beta


def test_role_get_of_another_tenants_role_is_not_found():
    with in_tenant(TENANT_B):
        beta_role = Role.objects.create(slug="auditor", name="Auditor")
    actor = actor_of(TENANT_A, "admin")

    with in_tenant(TENANT_A), pytest.raises(NotFoundError):
        selectors.role_get(actor=actor, role_id=beta_role.pk)


@pytest.mark.parametrize(
    ("call", "permission"),
    [
        (lambda actor: selectors.user_list(actor=actor), "accounts.view_user"),
        (lambda actor: selectors.role_list(actor=actor), "accounts.view_role"),
    ],
    ids=["users", "roles"],
)
def test_lists_need_the_view_permission(in_tenant_a, call, permission):
    actor = actor_of(TENANT_A, "outsider")

    with pytest.raises(PermissionDeniedError) as raised:
        call(actor)

    assert raised.value.details == {"permission": permission}


def test_permissions_by_codename_returns_only_known_role_permissions(in_tenant_a):
    found = selectors.permissions_by_codename(
        ["accounts.view_user", "accounts.nothing", "view_user", "tenants.view_tenant"]
    )

    assert sorted(found) == ["accounts.view_user"]
    assert found["accounts.view_user"].codename == "view_user"
