"""The audit trail: every write through the API and the admin, per tenant, with its actor."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.test import Client

from apps.core import tenancy
from tests.personas import HOSTS, PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _entries_for(schema_name: str, object_repr: str) -> list[LogEntry]:
    with tenancy.in_tenant(schema_name):
        return list(
            LogEntry.objects.filter(object_repr=object_repr).select_related("actor").order_by("pk")
        )


def test_api_write_is_audited_with_its_actor(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/roles/", {"slug": "auditors", "name": "Auditors"}, format="json"
    )

    assert response.status_code == 201
    entries = _entries_for(TENANT_A, "Auditors")
    assert [entry.action for entry in entries] == [LogEntry.Action.CREATE]
    assert entries[0].actor.username == "admin"
    assert entries[0].changes["slug"] == ["None", "auditors"]
    assert _entries_for(TENANT_B, "Auditors") == []


def test_api_update_records_what_changed(api_client):
    client = api_client(TENANT_A, "admin")
    role_id = client.post(
        "/api/v1/roles/", {"slug": "editors", "name": "Editors"}, format="json"
    ).json()["id"]

    client.patch(f"/api/v1/roles/{role_id}/", {"name": "Copy editors"}, format="json")

    entries = _entries_for(TENANT_A, "Copy editors")
    assert [entry.action for entry in entries] == [LogEntry.Action.UPDATE]
    assert entries[0].changes["name"] == ["Editors", "Copy editors"]
    assert entries[0].actor.username == "admin"


def test_admin_write_is_audited_with_its_actor():
    client = Client(HTTP_HOST=HOSTS[TENANT_A])
    client.post(
        "/accounts/login/", {"username": "admin", "password": PASSWORD}, HTTP_HOST=HOSTS[TENANT_A]
    )

    response = client.post(
        "/admin/accounts/role/add/",
        {"slug": "admin-made", "name": "Admin made", "description": "", "permissions": []},
        HTTP_HOST=HOSTS[TENANT_A],
    )

    assert response.status_code == 302, response.content[:500]
    entries = _entries_for(TENANT_A, "Admin made")
    assert [entry.action for entry in entries] == [LogEntry.Action.CREATE]
    assert entries[0].actor.username == "admin"


def test_tenant_admin_reads_own_trail_only(api_client):
    api_client(TENANT_B, "admin").post(
        "/api/v1/roles/", {"slug": "b-only", "name": "B only"}, format="json"
    )
    api_client(TENANT_A, "admin").post(
        "/api/v1/roles/", {"slug": "a-only", "name": "A only"}, format="json"
    )

    response = api_client(TENANT_A, "admin").get("/api/v1/audit/", {"page_size": 200})

    assert response.status_code == 200
    reprs = [entry["object_repr"] for entry in response.json()["results"]]
    assert "A only" in reprs
    assert "B only" not in reprs
    newest = response.json()["results"][0]
    assert newest["object_repr"] == "A only"
    assert newest["actor"] == "admin"
    assert newest["model"] == "accounts.role"
    assert newest["action"] == "create"


@pytest.mark.parametrize("persona", ["staff", "outsider"])
def test_only_permitted_users_read_the_trail(api_client, persona):
    response = api_client(TENANT_A, persona).get("/api/v1/audit/")

    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"permission": "auditlog.view_logentry"}


def test_password_is_never_in_the_trail(api_client):
    api_client(TENANT_A, "admin").post(
        "/api/v1/users/",
        {"username": "newhire", "password": "a-long-password-1"},
        format="json",
    )

    entries = _entries_for(TENANT_A, "newhire")
    assert len(entries) == 1
    assert "password" not in entries[0].changes
