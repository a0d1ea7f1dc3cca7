"""A tenant's admin site never shows or reaches the platform's tenants, and admin logins
do not cross between the operators' host and a tenant's host."""

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.core import tenancy
from apps.tenants.models import Tenant
from tests.personas import HOSTS, PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _logged_in(host: str, username: str) -> tuple[Client, int]:
    client = Client(HTTP_HOST=host)
    response = client.post("/admin/login/", {"username": username, "password": PASSWORD})
    return client, response.status_code


@pytest.fixture
def tenant_admin_client() -> Client:
    client, status = _logged_in(HOSTS[TENANT_A], "admin")
    assert status == 302
    return client


def test_tenant_admin_logs_in_and_does_not_see_tenants(tenant_admin_client):
    index = tenant_admin_client.get("/admin/")

    assert index.status_code == 200
    page = index.content.decode()
    assert 'href="/admin/accounts/role/"' in page
    assert 'href="/admin/tenants/tenant/"' not in page
    assert 'href="/admin/tenants/domain/"' not in page


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tenants/tenant/",
        "/admin/tenants/tenant/{beta}/change/",
        "/admin/tenants/domain/",
        "/admin/tenants/domain/add/",
    ],
)
def test_tenant_admin_cannot_reach_the_platform_pages(tenant_admin_client, tenant_b, path):
    response = tenant_admin_client.get(path.format(beta=tenant_b.pk))

    assert response.status_code == 403


def test_tenant_admin_cannot_run_a_tenant_action(tenant_admin_client, tenant_b):
    response = tenant_admin_client.post(
        "/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [str(tenant_b.pk)]}
    )

    assert response.status_code == 403
    assert Tenant.objects.get(pk=tenant_b.pk).status == Tenant.Status.ACTIVE


def test_staff_member_without_admin_flag_cannot_log_in():
    client, status = _logged_in(HOSTS[TENANT_A], "staff")

    assert status == 200
    assert client.get("/admin/").status_code == 302


def test_operator_credentials_do_not_work_on_a_tenant_host():
    with tenancy.in_public():
        User.objects.create_superuser(username="operator-test", password=PASSWORD)

    client, status = _logged_in(HOSTS[TENANT_A], "operator-test")

    assert status == 200
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("other_host", ["localhost", HOSTS[TENANT_B]])
def test_tenant_admin_session_is_not_valid_on_another_host(tenant_admin_client, other_host):
    response = tenant_admin_client.get("/admin/", HTTP_HOST=other_host)

    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/")
