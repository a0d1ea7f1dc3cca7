from collections.abc import Iterator

import pytest

from tests.personas import HOSTS


@pytest.fixture(autouse=True)
def _cold_test_hosts() -> Iterator[None]:
    """The shared fixtures keep alpha's and beta's host lookups warm across tests; a test
    here that switches a module of one of them must not leave that answer cached."""
    yield
    from apps.tenants.selectors import tenant_hostnames_forget

    tenant_hostnames_forget(hostnames=list(HOSTS.values()))
