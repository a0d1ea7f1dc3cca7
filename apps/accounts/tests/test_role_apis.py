"""/api/v1/roles/ and /api/v1/permissions/: who may list and edit roles, and what edits do."""

from __future__ import annotations

import pytest

from apps.accounts.models import Role
from apps.accounts.roles import PLATFORM_APP_LABELS
from apps.accounts.tests.conftest import error_code
from apps.core.tenancy import in_tenant
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

BUILTIN_SLUGS = ["manager", "staff", "tenant_admin", "viewer"]


def _role_state(schema_name: str, slug: str) -> tuple[str, str, list[str]] | None:
    """(slug, name, sorted permission codenames) of the role, or None if there is none."""
    with in_tenant(schema_name):
        role = Role.objects.filter(slug=slug).first()
        if role is None:
            return None
        codenames = sorted(
            f"{p.content_type.app_label}.{p.codename}"
            for p in role.permissions.select_related("content_type")
        )
        return role.slug, role.name, codenames


def _custom_role(schema_name: str, slug: str = "auditor", codenames=("view_user",)) -> Role:
    from django.contrib.auth.models import Permission

    with in_tenant(schema_name):
        role = Role.objects.create(slug=slug, name=slug.title())
        role.permissions.set(
            Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        )
        return role


# --- Listing -----------------------------------------------------------------------------------


def test_admin_lists_roles_with_cursor_pagination(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/roles/?ordering=slug")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert [role["slug"] for role in body["results"]] == BUILTIN_SLUGS
    assert {role["is_builtin"] for role in body["results"]} == {True}
    admin_role = body["results"][2]
    assert set(admin_role) == {
        "id",
        "slug",
        "name",
        "description",
        "is_builtin",
        "permissions",
        "created_at",
    }
    assert "accounts.add_role" in admin_role["permissions"]


def test_admin_lists_permission_codenames(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/permissions/")

    assert response.status_code == 200
    permissions = response.json()["permissions"]
    assert "accounts.view_user" in permissions
    assert "accounts.assign_role" in permissions
    assert permissions == sorted(permissions, key=lambda c: tuple(c.split(".", 1)))
    assert {c.split(".", 1)[0] for c in permissions} & set(PLATFORM_APP_LABELS) == set()


@pytest.mark.parametrize("name", ["staff", "outsider"])
@pytest.mark.parametrize("url", ["/api/v1/roles/", "/api/v1/permissions/"])
def test_non_admins_cannot_list_roles_or_permissions(api_client, name, url):
    response = api_client(TENANT_A, name).get(url)

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


# --- Create ------------------------------------------------------------------------------------


def test_admin_creates_role_with_permissions(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/roles/",
        {
            "slug": "auditor",
            "name": "Auditor",
            "description": "Reads users.",
            "permissions": ["accounts.view_user", "accounts.view_role"],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "auditor"
    assert body["name"] == "Auditor"
    assert body["description"] == "Reads users."
    assert body["is_builtin"] is False
    assert body["permissions"] == ["accounts.view_role", "accounts.view_user"]
    assert _role_state(TENANT_A, "auditor") == (
        "auditor",
        "Auditor",
        ["accounts.view_role", "accounts.view_user"],
    )
    with in_tenant(TENANT_A):
        assert str(Role.objects.get(slug="auditor").pk) == body["id"]
    assert _role_state(TENANT_B, "auditor") is None


def test_role_create_with_unknown_permission_is_400_and_creates_nothing(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/roles/",
        {"slug": "auditor", "name": "Auditor", "permissions": ["accounts.view_user", "hr.fly"]},
        format="json",
    )

    assert response.status_code == 400
    assert error_code(response) == "accounts.unknown_permission"
    assert response.json()["error"]["details"] == {"permissions": ["hr.fly"]}
    assert _role_state(TENANT_A, "auditor") is None


@pytest.mark.parametrize(
    ("codename", "code"),
    [
        ("view_user", "accounts.unknown_permission"),
        ("accounts", "accounts.unknown_permission"),
        ("accounts.view_user.x", "accounts.unknown_permission"),
        ("tenants.view_tenant", "accounts.unknown_permission"),
        ("sessions.delete_session", "accounts.unknown_permission"),
        ("", "validation_error"),
    ],
)
def test_role_create_with_malformed_permission_is_400(api_client, codename, code):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/roles/",
        {"slug": "auditor", "name": "Auditor", "permissions": [codename]},
        format="json",
    )

    assert response.status_code == 400
    assert error_code(response) == code
    assert _role_state(TENANT_A, "auditor") is None


def test_role_create_with_taken_slug_is_409(api_client):
    before = _role_state(TENANT_A, "viewer")

    response = api_client(TENANT_A, "admin").post(
        "/api/v1/roles/", {"slug": "viewer", "name": "Another viewer"}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "accounts.role_slug_taken"
    assert _role_state(TENANT_A, "viewer") == before


@pytest.mark.parametrize("name", ["staff", "outsider"])
def test_non_admins_cannot_create_roles(api_client, name):
    response = api_client(TENANT_A, name).post(
        "/api/v1/roles/",
        {"slug": "auditor", "name": "Auditor", "permissions": ["accounts.view_user"]},
        format="json",
    )

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert _role_state(TENANT_A, "auditor") is None


# --- Update ------------------------------------------------------------------------------------


def test_admin_patch_replaces_permissions(api_client):
    role = _custom_role(TENANT_A, codenames=("view_user", "view_role"))

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/roles/{role.pk}/",
        {"name": "Role auditor", "permissions": ["accounts.add_user"]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["permissions"] == ["accounts.add_user"]
    assert response.json()["name"] == "Role auditor"
    assert _role_state(TENANT_A, "auditor") == ("auditor", "Role auditor", ["accounts.add_user"])


def test_patch_without_permissions_keeps_them(api_client):
    role = _custom_role(TENANT_A, codenames=("view_user",))

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/roles/{role.pk}/", {"description": "Kept."}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["description"] == "Kept."
    assert _role_state(TENANT_A, "auditor") == ("auditor", "Auditor", ["accounts.view_user"])


def test_patch_with_unknown_permission_is_400_and_changes_nothing(api_client):
    role = _custom_role(TENANT_A, codenames=("view_user",))

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/roles/{role.pk}/",
        {"name": "Renamed", "permissions": ["accounts.view_nothing"]},
        format="json",
    )

    assert response.status_code == 400
    assert error_code(response) == "accounts.unknown_permission"
    assert _role_state(TENANT_A, "auditor") == ("auditor", "Auditor", ["accounts.view_user"])


def test_custom_role_slug_can_change(api_client):
    role = _custom_role(TENANT_A)

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/roles/{role.pk}/", {"slug": "reviewer"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["slug"] == "reviewer"
    assert _role_state(TENANT_A, "auditor") is None
    assert _role_state(TENANT_A, "reviewer") == ("reviewer", "Auditor", ["accounts.view_user"])


def test_patch_to_a_taken_slug_is_409_and_changes_nothing(api_client):
    role = _custom_role(TENANT_A)

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/roles/{role.pk}/", {"slug": "viewer"}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "accounts.role_slug_taken"
    assert _role_state(TENANT_A, "auditor") == ("auditor", "Auditor", ["accounts.view_user"])


def test_builtin_role_slug_cannot_change(api_client):
    with in_tenant(TENANT_A):
        viewer = Role.objects.get(slug="viewer")
    before = _role_state(TENANT_A, "viewer")

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/roles/{viewer.pk}/", {"slug": "reader", "name": "Reader"}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "accounts.role_builtin"
    assert _role_state(TENANT_A, "viewer") == before
    assert _role_state(TENANT_A, "reader") is None


def test_builtin_role_name_and_permissions_can_change(api_client):
    with in_tenant(TENANT_A):
        viewer = Role.objects.get(slug="viewer")

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/roles/{viewer.pk}/",
        {"name": "Reader", "permissions": ["accounts.view_role"]},
        format="json",
    )

    assert response.status_code == 200
    assert _role_state(TENANT_A, "viewer") == ("viewer", "Reader", ["accounts.view_role"])


@pytest.mark.parametrize("name", ["staff", "outsider"])
def test_non_admins_cannot_patch_roles(api_client, name):
    role = _custom_role(TENANT_A)

    response = api_client(TENANT_A, name).patch(
        f"/api/v1/roles/{role.pk}/",
        {"name": "Hijacked", "permissions": ["accounts.add_role"]},
        format="json",
    )

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert _role_state(TENANT_A, "auditor") == ("auditor", "Auditor", ["accounts.view_user"])


# --- Delete ------------------------------------------------------------------------------------


def test_admin_deletes_custom_role(api_client):
    role = _custom_role(TENANT_A)

    response = api_client(TENANT_A, "admin").delete(f"/api/v1/roles/{role.pk}/")

    assert response.status_code == 204
    assert _role_state(TENANT_A, "auditor") is None


@pytest.mark.parametrize("slug", BUILTIN_SLUGS)
def test_builtin_role_cannot_be_deleted(api_client, slug):
    with in_tenant(TENANT_A):
        role = Role.objects.get(slug=slug)
    before = _role_state(TENANT_A, slug)

    response = api_client(TENANT_A, "admin").delete(f"/api/v1/roles/{role.pk}/")

    assert response.status_code == 409
    assert error_code(response) == "accounts.role_builtin"
    assert _role_state(TENANT_A, slug) == before


@pytest.mark.parametrize("name", ["staff", "outsider"])
def test_non_admins_cannot_delete_roles(api_client, name):
    role = _custom_role(TENANT_A)

    response = api_client(TENANT_A, name).delete(f"/api/v1/roles/{role.pk}/")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert _role_state(TENANT_A, "auditor") == ("auditor", "Auditor", ["accounts.view_user"])


# --- Across tenants and into effective permissions ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("patch", {"name": "Hijacked", "permissions": []}), ("delete", None)],
)
def test_alpha_role_is_not_found_on_beta(api_client, method, payload):
    role = _custom_role(TENANT_A)
    client = api_client(TENANT_B, "admin")

    response = getattr(client, method)(f"/api/v1/roles/{role.pk}/", payload, format="json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert _role_state(TENANT_A, "auditor") == ("auditor", "Auditor", ["accounts.view_user"])


def test_unknown_role_id_is_404(api_client):
    response = api_client(TENANT_A, "admin").get(
        "/api/v1/roles/00000000-0000-4000-8000-0000000000ff/"
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_editing_a_role_changes_effective_permissions(api_client):
    with in_tenant(TENANT_A):
        staff_role = Role.objects.get(slug="staff")
    staff = api_client(TENANT_A, "staff")
    assert staff.get("/api/v1/users/").status_code == 403

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/roles/{staff_role.pk}/",
        {"permissions": ["accounts.view_user", "accounts.view_role"]},
        format="json",
    )

    assert response.status_code == 200
    me = staff.get("/api/v1/me/").json()
    assert me["roles"] == ["staff"]
    assert me["permissions"] == ["accounts.view_role", "accounts.view_user"]
    assert staff.get("/api/v1/users/").status_code == 200
    # Beta's staff role is a different row: unchanged.
    beta_me = api_client(TENANT_B, "staff").get("/api/v1/me/").json()
    assert "accounts.view_user" not in beta_me["permissions"]
