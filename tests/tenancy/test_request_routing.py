"""TenantRoutingMiddleware: which host reaches which schema, and how it fails closed."""

import pytest

from apps.tenants.models import Tenant
from apps.tenants.services import domain_add, template_schema_name, tenant_hosts_forget
from tests.personas import HOSTS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

ME_PATH = "/api/v1/me/"


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "details": {}, "fields": {}}}


@pytest.mark.parametrize(
    "host", ["alpha.localhost", "ALPHA.Localhost", "alpha.localhost:8000", "alpha.localhost."]
)
def test_host_variants_reach_the_same_tenant(api_client, host):
    response = api_client(TENANT_A, "staff", host=host).get(ME_PATH)

    assert response.status_code == 200
    assert response.json()["tenant"]["schema_name"] == TENANT_A


def test_each_host_reaches_its_own_schema(api_client):
    alpha = api_client(TENANT_A, "admin").get(ME_PATH).json()
    beta = api_client(TENANT_B, "admin").get(ME_PATH).json()

    assert (alpha["tenant"]["schema_name"], beta["tenant"]["schema_name"]) == (TENANT_A, TENANT_B)
    assert alpha["id"] == beta["id"]  # same persona id, two different rows


@pytest.mark.parametrize("host", ["nobody.localhost", "alpha.localhost.nobody.localhost"])
def test_unknown_host_is_404(client, host):
    response = client.get("/api/v1/health/", HTTP_HOST=host)

    assert response.status_code == 404
    assert response.json() == _error("tenant_not_found", "No tenant is served at this host.")


def test_a_host_pointed_at_the_template_is_404(client, django_capture_on_commit_callbacks):
    template = Tenant.objects.get(schema_name=template_schema_name())
    with django_capture_on_commit_callbacks(execute=True):
        domain_add(tenant=template, domain="template.localhost")

    response = client.get("/api/v1/health/", HTTP_HOST="template.localhost")

    assert response.status_code == 404
    assert response.json() == _error("tenant_not_found", "No tenant is served at this host.")


def test_a_tenant_whose_migration_failed_is_503(client, tenant_b):
    Tenant.objects.filter(pk=tenant_b.pk).update(
        migration_status=Tenant.MigrationStatus.FAILED, migration_error="boom"
    )
    tenant_hosts_forget(tenant=tenant_b)

    response = client.get("/api/v1/health/", HTTP_HOST=HOSTS[TENANT_B])

    assert response.status_code == 503
    assert response.json() == _error(
        "tenant_unavailable", "This tenant is being repaired. Try again later."
    )
    assert client.get("/api/v1/health/", HTTP_HOST=HOSTS[TENANT_A]).status_code == 200


def test_a_token_of_one_tenant_is_refused_on_another_host(api_client):
    response = api_client(TENANT_A, "admin", host=HOSTS[TENANT_B]).get(ME_PATH)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
