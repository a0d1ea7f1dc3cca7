from collections.abc import Iterator

import pytest

from apps.tenants.models import Domain, Tenant
from apps.tenants.tests.factories import tenant_provision
from tests.personas import HOSTS


@pytest.fixture(autouse=True)
def _cold_test_hosts() -> Iterator[None]:
    """The shared fixtures keep alpha's and beta's host lookups warm across tests; a test
    here that suspends or reconfigures one of them must not leave that answer cached."""
    yield
    from apps.tenants.selectors import tenant_hostnames_forget

    tenant_hostnames_forget(hostnames=list(HOSTS.values()))


@pytest.fixture
def gamma(db) -> Tenant:
    """A third tenant (gamma.localhost, module hr), rolled back with the test."""
    return tenant_provision(schema_name="gamma", modules=["hr"])


@pytest.fixture
def gamma_row(db) -> Tenant:
    """Only gamma's public rows (tenant, domain), no schema: enough for state transitions."""
    tenant = Tenant.objects.create(schema_name="gamma", name="Tenant gamma")
    Domain.objects.create(tenant=tenant, domain="gamma.localhost", is_primary=True)
    return tenant
