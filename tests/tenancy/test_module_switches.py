import pytest

from apps.tenants.services import tenant_module_set
from tests.personas import HOSTS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

DEMO_PATH = "/api/v1/demo/ping/"
NOT_FOUND_BODY = {
    "error": {"code": "not_found", "message": "Not found.", "details": {}, "fields": {}}
}


@pytest.fixture(autouse=True)
def _demo_urlconf(settings) -> None:
    settings.ROOT_URLCONF = "tests.tenancy.urls_modules"


def test_module_route_answers_where_the_module_is_on(client):
    response = client.get(DEMO_PATH, HTTP_HOST=HOSTS[TENANT_A])

    assert response.status_code == 200
    assert response.json() == {"module": "hr", "schema": TENANT_A}


def test_module_route_is_404_where_the_module_is_off(client):
    response = client.get(DEMO_PATH, HTTP_HOST=HOSTS[TENANT_B])

    assert response.status_code == 404
    assert response.json() == NOT_FOUND_BODY


def test_switched_off_module_answers_like_an_unknown_route(client):
    switched_off = client.get(DEMO_PATH, HTTP_HOST=HOSTS[TENANT_B])

    unknown = client.get("/api/v1/demo/no-such-route/", HTTP_HOST=HOSTS[TENANT_A])

    assert (unknown.status_code, unknown.json()) == (switched_off.status_code, NOT_FOUND_BODY)
    assert switched_off.json() == NOT_FOUND_BODY


def test_switching_the_module_off_is_seen_by_the_next_request(
    client, tenant_a, django_capture_on_commit_callbacks
):
    assert client.get(DEMO_PATH, HTTP_HOST=HOSTS[TENANT_A]).status_code == 200  # cached

    with django_capture_on_commit_callbacks(execute=True):
        switch = tenant_module_set(tenant=tenant_a, module="hr", is_enabled=False)

    response = client.get(DEMO_PATH, HTTP_HOST=HOSTS[TENANT_A])
    assert response.status_code == 404
    assert response.json() == NOT_FOUND_BODY
    assert (switch.module, switch.is_enabled) == ("hr", False)


def test_switching_the_module_on_opens_its_routes(
    client, tenant_b, django_capture_on_commit_callbacks
):
    assert client.get(DEMO_PATH, HTTP_HOST=HOSTS[TENANT_B]).status_code == 404  # cached

    with django_capture_on_commit_callbacks(execute=True):
        tenant_module_set(tenant=tenant_b, module="hr", is_enabled=True)

    response = client.get(DEMO_PATH, HTTP_HOST=HOSTS[TENANT_B])
    assert response.status_code == 200
    assert response.json() == {"module": "hr", "schema": TENANT_B}
