"""/api/v1/me/: who the caller is inside the tenant of the host."""

from __future__ import annotations

import pytest

from apps.accounts import services
from apps.accounts.models import Role
from apps.core.tenancy import in_tenant
from tests.fixtures import persona
from tests.personas import PERSONAS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _role_codenames(schema_name: str, slug: str) -> list[str]:
    with in_tenant(schema_name):
        return sorted(
            f"{p.content_type.app_label}.{p.codename}"
            for p in Role.objects.get(slug=slug).permissions.select_related("content_type")
        )


def test_me_describes_user_tenant_roles_permissions_and_scopes(api_client, tenant_a):
    response = api_client(TENANT_A, "admin").get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(PERSONAS["admin"][0]),
        "username": "admin",
        "email": "admin@example.test",
        "first_name": "",
        "last_name": "",
        "tenant": {
            "id": str(tenant_a.pk),
            "schema_name": TENANT_A,
            "name": "Tenant alpha",
            "time_zone": tenant_a.time_zone,
            "modules": ["hr"],
        },
        "roles": ["tenant_admin"],
        "permissions": _role_codenames(TENANT_A, "tenant_admin"),
        "scopes": {},
    }


def test_me_on_beta_names_beta(api_client, tenant_b):
    body = api_client(TENANT_B, "staff").get("/api/v1/me/").json()

    assert body["id"] == str(PERSONAS["staff"][0])
    assert body["tenant"]["id"] == str(tenant_b.pk)
    assert body["tenant"]["schema_name"] == TENANT_B
    assert body["tenant"]["name"] == "Tenant beta"
    assert body["tenant"]["modules"] == ["pipeline"]
    assert body["roles"] == ["staff"]
    assert body["permissions"] == _role_codenames(TENANT_B, "staff")


def test_me_of_outsider_has_no_roles_permissions_or_scopes(api_client):
    body = api_client(TENANT_A, "outsider").get("/api/v1/me/").json()

    assert body["username"] == "outsider"
    assert body["roles"] == []
    assert body["permissions"] == []
    assert body["scopes"] == {}


def test_me_lists_granted_scopes(api_client):
    with in_tenant(TENANT_A):
        staff = persona(TENANT_A, "staff")
        for scope_type, scope_value in [("department", "d2"), ("department", "d1"), ("zone", "z9")]:
            services.scope_grant(
                actor=None, user=staff, scope_type=scope_type, scope_value=scope_value
            )

    alpha = api_client(TENANT_A, "staff").get("/api/v1/me/").json()
    beta = api_client(TENANT_B, "staff").get("/api/v1/me/").json()

    assert alpha["scopes"] == {"department": ["d1", "d2"], "zone": ["z9"]}
    # Same user id in beta, but grants are rows of alpha's schema.
    assert beta["scopes"] == {}


def test_me_joins_permissions_of_several_roles(api_client):
    with in_tenant(TENANT_A):
        persona(TENANT_A, "outsider").roles.set(Role.objects.filter(slug__in=["staff", "viewer"]))
    expected = sorted(
        set(_role_codenames(TENANT_A, "staff")) | set(_role_codenames(TENANT_A, "viewer"))
    )

    body = api_client(TENANT_A, "outsider").get("/api/v1/me/").json()

    assert body["roles"] == ["staff", "viewer"]
    assert body["permissions"] == expected
