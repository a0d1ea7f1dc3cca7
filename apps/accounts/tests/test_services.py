"""Services called directly: built-in roles, authorization inside services, last admin."""

from __future__ import annotations

import pytest

from apps.accounts import services
from apps.accounts.errors import (
    LastAdminError,
    RoleBuiltinError,
    RoleSlugTakenError,
    UnknownPermissionError,
    UnknownRoleError,
    UsernameTakenError,
)
from apps.accounts.models import Role, ScopeGrant, User
from apps.accounts.roles import BUILTIN_ROLES, PLATFORM_APP_LABELS, builtin_roles_sync
from apps.accounts.tests.conftest import actor_of
from apps.core.errors import PermissionDeniedError, TenantContextMissingError
from apps.core.tenancy import in_tenant
from apps.core.types import Actor
from tests.fixtures import persona
from tests.personas import PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _codenames(role: Role) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in role.permissions.select_related("content_type")
    }


def _actor_with(user: User, *permissions: str) -> Actor:
    return Actor(user=user, schema_name=TENANT_A, permissions=frozenset(permissions))


# --- Built-in roles ----------------------------------------------------------------------------


@pytest.mark.parametrize("schema_name", [TENANT_A, TENANT_B])
def test_builtin_roles_exist_in_each_tenant(schema_name):
    with in_tenant(schema_name):
        roles = {role.slug: role for role in Role.objects.all()}

        assert sorted(roles) == sorted(BUILTIN_ROLES)
        assert {role.is_builtin for role in roles.values()} == {True}
        assert roles["tenant_admin"].name == "Tenant admin"
        admin_perms = _codenames(roles["tenant_admin"])
        viewer_perms = _codenames(roles["viewer"])
        manager_perms = _codenames(roles["manager"])

    assert {
        "accounts.add_role",
        "accounts.change_role",
        "accounts.delete_role",
        "accounts.assign_role",
        "accounts.add_user",
        "accounts.add_scopegrant",
    } <= admin_perms
    assert {c.split(".", 1)[0] for c in admin_perms} & set(PLATFORM_APP_LABELS) == set()
    assert viewer_perms
    assert {c for c in viewer_perms if not c.split(".", 1)[1].startswith("view_")} == set()
    assert {c for c in viewer_perms if c.startswith("accounts.")} == set()
    assert {
        c for c in manager_perms if c.split(".", 1)[1].startswith(("add_", "change_", "delete_"))
    } == set()
    assert "accounts.view_user" in manager_perms


def test_builtin_roles_sync_is_idempotent(in_tenant_a):
    before = {role.slug: _codenames(role) for role in Role.objects.all()}

    roles = builtin_roles_sync()

    assert sorted(role.slug for role in roles) == sorted(BUILTIN_ROLES)
    assert {role.slug: _codenames(role) for role in Role.objects.all()} == before


def test_builtin_roles_sync_keeps_permissions_an_admin_removed(in_tenant_a):
    viewer = Role.objects.get(slug="viewer")
    viewer.permissions.clear()

    builtin_roles_sync()

    assert _codenames(Role.objects.get(slug="viewer")) == set()


# --- Roles: authorization and rules inside the service -----------------------------------------


def test_role_create_without_add_role_is_denied_and_creates_nothing(in_tenant_a):
    actor = actor_of(TENANT_A, "staff")
    assert "accounts.add_role" not in actor.permissions

    with pytest.raises(PermissionDeniedError) as raised:
        services.role_create(
            actor=actor, slug="auditor", name="Auditor", permissions=["accounts.view_user"]
        )

    assert raised.value.details == {"permission": "accounts.add_role"}
    assert Role.objects.filter(slug="auditor").exists() is False


def test_role_create_by_admin(in_tenant_a):
    role = services.role_create(
        actor=actor_of(TENANT_A, "admin"),
        slug="auditor",
        name="Auditor",
        permissions=["accounts.view_user"],
    )

    assert Role.objects.get(slug="auditor") == role
    assert role.is_builtin is False
    assert _codenames(role) == {"accounts.view_user"}


def test_role_create_with_taken_slug_raises(in_tenant_a):
    with pytest.raises(RoleSlugTakenError):
        services.role_create(actor=actor_of(TENANT_A, "admin"), slug="staff", name="Other")

    assert Role.objects.filter(slug="staff").count() == 1


def test_role_create_with_unknown_permission_leaves_no_row(in_tenant_a):
    with pytest.raises(UnknownPermissionError) as raised:
        services.role_create(
            actor=actor_of(TENANT_A, "admin"),
            slug="auditor",
            name="Auditor",
            permissions=["accounts.view_user", "accounts.fly", "zz.zz"],
        )

    assert raised.value.details == {"permissions": ["accounts.fly", "zz.zz"]}
    assert Role.objects.filter(slug="auditor").exists() is False


@pytest.mark.parametrize(
    ("call", "permission"),
    [
        (
            lambda actor, role: services.role_update(actor=actor, role=role, data={"name": "X"}),
            "accounts.change_role",
        ),
        (lambda actor, role: services.role_delete(actor=actor, role=role), "accounts.delete_role"),
    ],
    ids=["update", "delete"],
)
def test_role_changes_without_permission_are_denied(in_tenant_a, call, permission):
    role = Role.objects.create(slug="auditor", name="Auditor")
    actor = _actor_with(persona(TENANT_A, "outsider"), "accounts.view_role")

    with pytest.raises(PermissionDeniedError) as raised:
        call(actor, role)

    assert raised.value.details == {"permission": permission}
    assert Role.objects.get(slug="auditor").name == "Auditor"


def test_builtin_role_delete_raises(in_tenant_a):
    with pytest.raises(RoleBuiltinError):
        services.role_delete(actor=actor_of(TENANT_A, "admin"), role=Role.objects.get(slug="staff"))

    assert Role.objects.filter(slug="staff").exists() is True


# --- Users ---------------------------------------------------------------------------------------


def test_user_create_without_add_user_is_denied(in_tenant_a):
    actor = _actor_with(persona(TENANT_A, "outsider"), "accounts.assign_role")

    with pytest.raises(PermissionDeniedError) as raised:
        services.user_create(actor=actor, username="newcomer", password=PASSWORD)

    assert raised.value.details == {"permission": "accounts.add_user"}
    assert User.objects.filter(username="newcomer").exists() is False


def test_user_create_with_roles_needs_assign_role(in_tenant_a):
    actor = _actor_with(persona(TENANT_A, "outsider"), "accounts.add_user")

    with pytest.raises(PermissionDeniedError) as raised:
        services.user_create(
            actor=actor, username="newcomer", password=PASSWORD, roles=["tenant_admin"]
        )

    assert raised.value.details == {"permission": "accounts.assign_role"}
    assert User.objects.filter(username="newcomer").exists() is False


def test_user_create_without_roles_needs_only_add_user(in_tenant_a):
    actor = _actor_with(persona(TENANT_A, "outsider"), "accounts.add_user")

    user = services.user_create(actor=actor, username="newcomer", password=PASSWORD)

    assert User.objects.get(username="newcomer") == user
    assert list(user.roles.all()) == []
    assert user.is_staff is False
    assert user.check_password(PASSWORD) is True


def test_user_create_admin_role_makes_staff_user(in_tenant_a):
    user = services.user_create(
        actor=actor_of(TENANT_A, "admin"),
        username="newcomer",
        password=None,
        roles=["tenant_admin", "viewer"],
    )

    assert sorted(user.roles.values_list("slug", flat=True)) == ["tenant_admin", "viewer"]
    assert user.is_staff is True
    assert user.has_usable_password() is False


def test_user_create_with_unknown_role_leaves_no_row(in_tenant_a):
    with pytest.raises(UnknownRoleError) as raised:
        services.user_create(
            actor=actor_of(TENANT_A, "admin"),
            username="newcomer",
            password=None,
            roles=["viewer", "wizard"],
        )

    assert raised.value.details == {"roles": ["wizard"]}
    assert User.objects.filter(username="newcomer").exists() is False


def test_user_create_username_taken_is_case_insensitive(in_tenant_a):
    count = User.objects.count()

    with pytest.raises(UsernameTakenError):
        services.user_create(actor=actor_of(TENANT_A, "admin"), username="Staff", password=None)

    assert User.objects.count() == count


def test_user_create_outside_a_tenant_fails_closed():
    with pytest.raises(TenantContextMissingError):
        services.user_create(actor=None, username="newcomer", password=None)


def _make_admin_the_last_admin() -> User:
    User.objects.filter(username="first-admin").update(is_active=False)
    admin = persona(TENANT_A, "admin")
    assert list(User.objects.filter(roles__slug="tenant_admin", is_active=True)) == [admin]
    return admin


def test_last_admin_cannot_lose_the_admin_role(in_tenant_a):
    admin = _make_admin_the_last_admin()

    with pytest.raises(LastAdminError):
        services.user_update(
            actor=actor_of(TENANT_A, "admin"), user=admin, data={"roles": ["staff"]}
        )

    admin.refresh_from_db()
    assert list(admin.roles.values_list("slug", flat=True)) == ["tenant_admin"]
    assert admin.is_staff is True


@pytest.mark.parametrize(
    "call",
    [
        lambda actor, user: services.user_deactivate(actor=actor, user=user),
        lambda actor, user: services.user_update(actor=actor, user=user, data={"is_active": False}),
    ],
    ids=["deactivate", "update"],
)
def test_last_admin_cannot_be_deactivated(in_tenant_a, call):
    admin = _make_admin_the_last_admin()

    with pytest.raises(LastAdminError):
        call(actor_of(TENANT_A, "admin"), admin)

    admin.refresh_from_db()
    assert admin.is_active is True


def test_admin_role_can_go_while_another_admin_is_active(in_tenant_a):
    admin = persona(TENANT_A, "admin")

    services.user_update(actor=actor_of(TENANT_A, "admin"), user=admin, data={"roles": ["staff"]})

    admin.refresh_from_db()
    assert list(admin.roles.values_list("slug", flat=True)) == ["staff"]
    assert admin.is_staff is False


def test_admins_of_another_tenant_do_not_count(in_tenant_a):
    admin = _make_admin_the_last_admin()
    with in_tenant(TENANT_B):
        assert User.objects.filter(roles__slug="tenant_admin", is_active=True).count() == 2

    with pytest.raises(LastAdminError):
        services.user_deactivate(actor=actor_of(TENANT_A, "admin"), user=admin)


def test_user_update_roles_needs_assign_role(in_tenant_a):
    staff = persona(TENANT_A, "staff")
    actor = _actor_with(persona(TENANT_A, "outsider"), "accounts.change_user")

    with pytest.raises(PermissionDeniedError) as raised:
        services.user_update(actor=actor, user=staff, data={"roles": ["tenant_admin"]})

    assert raised.value.details == {"permission": "accounts.assign_role"}
    assert list(staff.roles.values_list("slug", flat=True)) == ["staff"]


def test_user_deactivate_needs_delete_user(in_tenant_a):
    staff = persona(TENANT_A, "staff")
    actor = _actor_with(persona(TENANT_A, "outsider"), "accounts.change_user")

    with pytest.raises(PermissionDeniedError) as raised:
        services.user_deactivate(actor=actor, user=staff)

    assert raised.value.details == {"permission": "accounts.delete_user"}
    staff.refresh_from_db()
    assert staff.is_active is True


# --- Scope grants ------------------------------------------------------------------------------


def test_scope_grant_is_idempotent(in_tenant_a):
    staff = persona(TENANT_A, "staff")
    actor = actor_of(TENANT_A, "admin")

    services.scope_grant(actor=actor, user=staff, scope_type="department", scope_value="d1")
    services.scope_grant(actor=actor, user=staff, scope_type="department", scope_value="d1")

    assert list(ScopeGrant.objects.filter(user=staff).values_list("scope_type", "scope_value")) == [
        ("department", "d1")
    ]


def test_scope_grant_without_permission_is_denied(in_tenant_a):
    staff = persona(TENANT_A, "staff")

    with pytest.raises(PermissionDeniedError):
        services.scope_grant(
            actor=actor_of(TENANT_A, "staff"), user=staff, scope_type="department", scope_value="d1"
        )

    assert ScopeGrant.objects.filter(user=staff).exists() is False


# --- Login service -----------------------------------------------------------------------------


def test_login_tokens_issue_outside_a_tenant_fails_closed():
    with pytest.raises(TenantContextMissingError):
        services.login_tokens_issue(username="admin", password=PASSWORD)
