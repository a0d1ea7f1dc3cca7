import pytest

from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def test_health_answers_on_tenant_host(api_client):
    response = api_client(TENANT_A).get("/api/v1/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "redis": True}}


def test_unknown_host_is_404_in_error_shape(api_client):
    response = api_client(TENANT_A, host="nobody.localhost").get("/api/v1/health/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tenant_not_found"


def test_me_names_user_tenant_and_roles(api_client):
    response = api_client(TENANT_B, "admin").get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "admin"
    assert body["tenant"]["schema_name"] == TENANT_B
    assert body["roles"] == ["tenant_admin"]
    assert "accounts.add_role" in body["permissions"]
