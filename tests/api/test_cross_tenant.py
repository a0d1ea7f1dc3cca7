"""Tenant A's users can never read, list, change or delete tenant B's objects, and A's
tokens fail on B's host. Every API route of the tenant URLconf is covered: a route
missing from tests/api/routes.py fails ``test_every_route_is_covered``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.core import tenancy
from tests.api.routes import PUBLIC_ROUTES, ROUTES, api_routes, fill
from tests.personas import HOSTS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

ALL_ROUTES = api_routes()
PROTECTED = [route for route in ALL_ROUTES if route.pattern not in PUBLIC_ROUTES]
DETAIL = [route for route in PROTECTED if "<" in route.pattern]
LISTS = [
    route
    for route in PROTECTED
    if "<" not in route.pattern and "GET" in route.methods and ROUTES[route.pattern].make
]


def test_every_route_is_covered():
    patterns = {route.pattern for route in ALL_ROUTES}

    uncovered = patterns - set(ROUTES) - set(PUBLIC_ROUTES)
    stale = (set(ROUTES) | set(PUBLIC_ROUTES)) - patterns

    assert uncovered == set(), f"add these routes to tests/api/routes.py: {sorted(uncovered)}"
    assert stale == set(), f"these routes no longer exist: {sorted(stale)}"
    assert len(patterns) >= 12


@pytest.fixture(autouse=True)
def _module_on_for_both(request) -> Iterator[None]:
    """Each test tenant lacks a business module the other has (A: hr, B: pipeline), so
    its host answers 404 on that module's routes before a token is even read. For a
    module route, switch the module on for both tenants during the test (rolled back
    with it), so the checks below reach the views: the module gate itself is tested by
    each module's own tests."""
    route = getattr(request.node, "callspec", None) and request.node.callspec.params.get("route")
    module = _module_of(route) if route else None
    if module is None:
        yield
        return
    from apps.tenants.models import Tenant, TenantModule
    from apps.tenants.selectors import tenant_hostnames_forget

    request.getfixturevalue("db")
    hostnames = [HOSTS[TENANT_A], HOSTS[TENANT_B]]
    for schema_name in (TENANT_A, TENANT_B):
        TenantModule.objects.update_or_create(
            tenant=Tenant.objects.get(schema_name=schema_name),
            module=module,
            defaults={"is_enabled": True},
        )
    tenant_hostnames_forget(hostnames=hostnames)
    yield
    # The switch is rolled back with the test; its cached host lookups must go too.
    tenant_hostnames_forget(hostnames=hostnames)


def _module_of(route) -> str | None:
    # module_path("<module>/", ...) mounts a business module under api/v1/<module>/.
    from django.conf import settings

    first = route.pattern.removeprefix("api/v1/").split("/", 1)[0]
    return first if first in settings.TENANTRY_MODULES else None


def _make_in(schema_name: str, route) -> tuple[str, str]:
    spec = ROUTES[route.pattern]
    with tenancy.in_tenant(schema_name):
        kwargs, marker = spec.make() if spec.make else ({}, "")
    return fill(route.pattern, kwargs), marker


@pytest.mark.parametrize(
    ("route", "method"),
    [(route, method) for route in PROTECTED for method in sorted(route.methods)],
    ids=lambda value: getattr(value, "pattern", value),
)
def test_token_of_tenant_a_is_refused_on_host_of_b(api_client, route, method):
    path, _ = _make_in(TENANT_B, route)
    client = api_client(TENANT_A, "admin", host=HOSTS[TENANT_B])

    response = getattr(client, method.lower())(path, data={}, format="json")

    assert response.status_code == 401, (path, method, response.content[:300])
    assert response.json()["error"]["code"] == "token_not_valid"


@pytest.mark.parametrize("route", DETAIL, ids=lambda route: route.pattern)
def test_admin_of_a_cannot_touch_object_of_b(api_client, route):
    path_b, marker = _make_in(TENANT_B, route)
    client = api_client(TENANT_A, "admin")
    spec = ROUTES[route.pattern]

    answers = {}
    for method in sorted(route.methods):
        call = getattr(client, method.lower())
        response = call(path_b, data=spec.write_body, format="json")
        answers[method] = response

    for method, response in answers.items():
        body = response.content.decode()
        assert marker not in body, (method, path_b)
        # Integer ids (audit entries) may name a different row of A's own; anything
        # else must simply not exist on A's host.
        if "<int:" not in route.pattern:
            assert response.status_code == 404, (method, path_b, body[:300])
            assert response.json()["error"]["code"] == "not_found"
    with tenancy.in_tenant(TENANT_B):
        # B's object is still there and unchanged.
        assert spec.intact is not None, f"give {route.pattern} an intact check"
        assert spec.intact(marker)


@pytest.mark.parametrize("route", LISTS, ids=lambda route: route.pattern)
def test_list_of_a_never_shows_rows_of_b(api_client, route):
    path, marker = _make_in(TENANT_B, route)
    list_path = "/" + route.pattern

    response = api_client(TENANT_A, "admin").get(list_path, {"page_size": 200})

    assert response.status_code == 200, response.content[:300]
    assert marker not in response.content.decode()


@pytest.mark.parametrize("route", LISTS, ids=lambda route: route.pattern)
def test_list_of_b_shows_its_own_rows(api_client, route):
    """The control: the same marker *is* visible to B's admin, so the test above can fail."""
    path, marker = _make_in(TENANT_B, route)

    response = api_client(TENANT_B, "admin").get("/" + route.pattern, {"page_size": 200})

    assert response.status_code == 200
    assert marker in response.content.decode()
