"""Idempotency-Key on POST: replay, mismatch, in-flight duplicates, per-caller keys."""

from __future__ import annotations

import pytest

from apps.core import tenancy
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _role_count(schema_name: str, slug: str) -> int:
    from apps.accounts.models import Role

    with tenancy.in_tenant(schema_name):
        return Role.objects.filter(slug=slug).count()


def _post(client, payload, key):
    return client.post("/api/v1/roles/", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_same_body_replays_first_answer(api_client):
    client = api_client(TENANT_A, "admin")
    payload = {"slug": "idem-one", "name": "Idem"}

    first = _post(client, payload, "key-1")
    second = _post(client, payload, "key-1")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _role_count(TENANT_A, "idem-one") == 1


def test_same_key_other_body_is_422(api_client):
    client = api_client(TENANT_A, "admin")
    _post(client, {"slug": "idem-two", "name": "Idem"}, "key-2")

    response = _post(client, {"slug": "idem-three", "name": "Other"}, "key-2")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert _role_count(TENANT_A, "idem-three") == 0


def test_duplicate_while_first_runs_is_409(api_client):
    from apps.core.models import IdempotencyRecord

    client = api_client(TENANT_A, "admin")
    payload = {"slug": "idem-four", "name": "Idem"}
    # The first request is "still running": its record is claimed but not finished.
    first = _post(client, payload, "key-4")
    with tenancy.in_tenant(TENANT_A):
        IdempotencyRecord.objects.filter(key="key-4").update(state="running")

    response = _post(client, payload, "key-4")

    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_request_in_progress"
    assert _role_count(TENANT_A, "idem-four") == 1


def test_failed_validation_is_replayed_not_retried(api_client):
    client = api_client(TENANT_A, "admin")
    payload = {"slug": "bad slug", "name": "x"}

    first = _post(client, payload, "key-5")
    second = _post(client, payload, "key-5")

    assert first.status_code == second.status_code == 400
    assert second.json() == first.json()


def test_keys_belong_to_their_caller(api_client):
    payload = {"slug": "idem-six", "name": "Idem"}
    first = _post(api_client(TENANT_A, "admin"), payload, "key-6")

    # Another user reusing the key is a different request, not a replay.
    from apps.accounts.models import Role, User

    with tenancy.in_tenant(TENANT_A):
        staff = User.objects.get(username="staff")
        staff.roles.add(Role.objects.get(slug="tenant_admin"))
    second = _post(api_client(TENANT_A, "staff"), {**payload, "slug": "idem-seven"}, "key-6")

    assert first.status_code == 201
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers


def test_keys_are_per_tenant(api_client):
    payload = {"slug": "idem-eight", "name": "Idem"}

    first = _post(api_client(TENANT_A, "admin"), payload, "key-8")
    second = _post(api_client(TENANT_B, "admin"), payload, "key-8")

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert _role_count(TENANT_A, "idem-eight") == 1
    assert _role_count(TENANT_B, "idem-eight") == 1


def test_overlong_key_is_400(api_client):
    response = _post(api_client(TENANT_A, "admin"), {"slug": "x", "name": "x"}, "k" * 256)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"


def test_expired_key_runs_again(api_client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.models import IdempotencyRecord

    client = api_client(TENANT_A, "admin")
    _post(client, {"slug": "idem-nine", "name": "Idem"}, "key-9")
    with tenancy.in_tenant(TENANT_A):
        IdempotencyRecord.objects.filter(key="key-9").update(
            created_at=timezone.now() - timedelta(hours=25)
        )

    response = _post(client, {"slug": "idem-ten", "name": "Other"}, "key-9")

    assert response.status_code == 201
    assert _role_count(TENANT_A, "idem-ten") == 1
