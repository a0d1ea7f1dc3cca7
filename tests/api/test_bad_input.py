"""Bad input gets a clear 4xx in the one error shape, and nothing stored changes."""

from __future__ import annotations

import json

import pytest

from apps.core import tenancy
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db


def _roles_snapshot() -> list[tuple[str, str]]:
    from apps.accounts.models import Role

    with tenancy.in_tenant(TENANT_A):
        return list(Role.objects.order_by("slug").values_list("slug", "name"))


def _assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:400]
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"slug": "x", "name": ', "application/json", 400, "malformed_request"),
        ("[1, 2, 3]", "application/json", 400, "validation_error"),
        ('"just a string"', "application/json", 400, "validation_error"),
        ("slug=x&name=y", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("slug: x", "text/plain", 415, "unsupported_media_type"),
        ('{"slug": "x", "name": "y"}', "", 415, "unsupported_media_type"),
        # Nested deeper than the JSON parser's recursion limit.
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "malformed_request"),
    ],
    ids=["truncated-json", "array", "string", "form", "text", "no-content-type", "too-deep"],
)
def test_unparseable_bodies_are_refused(api_client, body, content_type, status, code):
    before = _roles_snapshot()
    client = api_client(TENANT_A, "admin")

    response = client.generic("POST", "/api/v1/roles/", body, content_type=content_type)

    _assert_error_shape(response, status, code)
    assert _roles_snapshot() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"slug": "ok-slug", "name": "Ok", "permissions": "accounts.view_user"}, "permissions"),
        ({"slug": 12, "name": {"a": 1}}, "name"),
        ({"slug": "not a slug!", "name": "x"}, "slug"),
        ({"name": "missing slug"}, "slug"),
        ({"slug": "ok-slug", "name": "x", "colour": "red"}, "colour"),
        ({"slug": "ok-slug", "name": "x" * 121}, "name"),
    ],
    ids=["list-as-string", "wrong-types", "bad-slug", "missing", "unknown-field", "too-long"],
)
def test_invalid_fields_are_named(api_client, payload, field):
    before = _roles_snapshot()

    response = api_client(TENANT_A, "admin").post("/api/v1/roles/", payload, format="json")

    error = _assert_error_shape(response, 400, "validation_error")
    assert field in error["fields"]
    assert all(isinstance(message, str) for message in error["fields"][field])
    assert _roles_snapshot() == before


def test_oversized_body_is_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    before = _roles_snapshot()
    payload = {"slug": "big", "name": "big", "description": "x" * 5_000}

    response = api_client(TENANT_A, "admin").post("/api/v1/roles/", payload, format="json")

    error = _assert_error_shape(response, 413, "request_too_large")
    assert error["details"] == {"max_bytes": 2_000}
    assert _roles_snapshot() == before


def test_unknown_api_route_is_404_in_error_shape(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/no-such-thing/")

    _assert_error_shape(response, 404, "not_found")


def test_wrong_method_is_405(api_client):
    response = api_client(TENANT_A, "admin").put("/api/v1/roles/", {}, format="json")

    _assert_error_shape(response, 405, "method_not_allowed")


def test_missing_token_is_401(api_client):
    response = api_client(TENANT_A).get("/api/v1/roles/")

    error = _assert_error_shape(response, 401, "not_authenticated")
    assert error["fields"] == {}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_garbage_token_is_401(api_client):
    client = api_client(TENANT_A)
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = client.get("/api/v1/roles/")

    _assert_error_shape(response, 401, "token_not_valid")


def test_forbidden_is_403_and_changes_nothing(api_client):
    before = _roles_snapshot()

    response = api_client(TENANT_A, "staff").post(
        "/api/v1/roles/", {"slug": "sneaky", "name": "Sneaky"}, format="json"
    )

    error = _assert_error_shape(response, 403, "permission_denied")
    assert error["details"] == {"permission": "accounts.add_role"}
    assert _roles_snapshot() == before


def test_bad_uuid_in_path_is_404(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/roles/not-a-uuid/")

    _assert_error_shape(response, 404, "not_found")


def test_unexpected_exception_is_500_without_internals(api_client, monkeypatch, caplog):
    from apps.accounts import selectors

    def explode(**kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(selectors, "role_list", explode)

    response = api_client(TENANT_A, "admin").get("/api/v1/roles/")

    error = _assert_error_shape(response, 500, "server_error")
    assert "hunter2" not in json.dumps(error)
    logged = [record for record in caplog.records if record.name == "tenantry.api"]
    assert len(logged) == 1, "the unexpected error must be logged once, with its traceback"
    assert logged[0].exc_info[0] is RuntimeError
