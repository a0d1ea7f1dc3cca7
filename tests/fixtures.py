"""Shared fixtures (loaded as a pytest plugin for tests/ and apps/*/tests/): real

The test tenants are created once per session by the same clone mechanism production
uses (apps.tenants.services.tenant_create) and committed; every test's own writes are
rolled back by pytest-django.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.personas import HOSTS, PASSWORD, PERSONAS, TENANT_A, TENANT_B


def _provision(schema_name: str) -> None:
    from apps.accounts.models import Role, User
    from apps.core import tenancy
    from apps.tenants.models import Tenant
    from apps.tenants.services import public_tenant_ensure, tenant_create

    public_tenant_ensure(domain="localhost")
    if not Tenant.objects.filter(schema_name=schema_name).exists():
        tenant_create(
            schema_name=schema_name,
            name=f"Tenant {schema_name}",
            domain=HOSTS[schema_name],
            admin_username="first-admin",
            admin_password=PASSWORD,
            modules=["hr"] if schema_name == TENANT_A else ["pipeline"],
        )
    with tenancy.in_tenant(schema_name):
        for username, (user_id, roles) in PERSONAS.items():
            user, _ = User.objects.get_or_create(
                id=user_id, defaults={"username": username, "email": f"{username}@example.test"}
            )
            user.set_password(PASSWORD)
            user.is_staff = "tenant_admin" in roles
            user.save()
            user.roles.set(Role.objects.filter(slug__in=roles))


@pytest.fixture(scope="session", autouse=True)
def test_tenants(django_db_setup, django_db_blocker) -> None:
    # Autouse under its own name: a plugin cannot reliably override pytest-django's
    # django_db_setup, so the tenants are provisioned right after it instead.
    from django.conf import settings

    # pytest-django only switches to the test database when a collected test needs the
    # database; never provision personas into a developer's real one.
    if not settings.DATABASES["default"]["NAME"].startswith("test_"):
        return
    with django_db_blocker.unblock():
        _provision(TENANT_A)
        _provision(TENANT_B)


@pytest.fixture(autouse=True)
def _public_schema_around_test() -> Iterator[None]:
    """Start and leave every test in the public schema: a request leaves the connection on
    its tenant's schema, so a test would otherwise inherit the previous test's."""
    from apps.core.tenancy import activate_public

    activate_public()
    yield
    activate_public()


@pytest.fixture(autouse=True)
def _isolated_cache(request) -> Iterator[None]:
    """Cached host lookups and login counters must not outlive a rolled-back test."""
    yield
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)  # noqa: SLF001
    for key in client.scan_iter(match="*"):
        key_text = key.decode()
        if ":tenancy:host:" in key_text and any(h in key_text for h in HOSTS.values()):
            continue  # the two test tenants never change host; keep their lookups warm
        client.delete(key)


@pytest.fixture
def tenant_a(db):
    from apps.tenants.models import Tenant

    return Tenant.objects.get(schema_name=TENANT_A)


@pytest.fixture
def tenant_b(db):
    from apps.tenants.models import Tenant

    return Tenant.objects.get(schema_name=TENANT_B)


@pytest.fixture
def in_tenant_a(tenant_a) -> Iterator:
    from apps.core import tenancy

    with tenancy.in_tenant_object(tenant_a):
        yield tenant_a


@pytest.fixture
def in_tenant_b(tenant_b) -> Iterator:
    from apps.core import tenancy

    with tenancy.in_tenant_object(tenant_b):
        yield tenant_b


def persona(schema_name: str, name: str):
    from apps.accounts.models import User
    from apps.core import tenancy

    with tenancy.in_tenant(schema_name):
        return User.objects.get(username=name)


def access_token_for(schema_name: str, name: str) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.core import tenancy

    with tenancy.in_tenant(schema_name):
        user = persona(schema_name, name)
        refresh = RefreshToken.for_user(user)
        refresh["tenant"] = schema_name
        return str(refresh.access_token)


@pytest.fixture
def api_client() -> Callable:
    """``api_client(TENANT_A, "admin")``: a client on A's host with that persona's token.

    ``persona=None`` gives an anonymous client; ``host=`` sends it to another host.
    """

    from rest_framework.test import APIClient

    def make(schema_name: str, name: str | None = None, *, host: str | None = None) -> APIClient:
        client = APIClient(HTTP_HOST=host or HOSTS[schema_name])
        if name is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(schema_name, name)}")
        return client

    return make


@pytest.fixture
def tenants() -> tuple[str, str]:
    return TENANT_A, TENANT_B
