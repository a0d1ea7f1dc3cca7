"""Property-based run of schemathesis over the tenant OpenAPI document: no input makes the
API answer 5xx, invalid input is refused, and every answer matches the document.

Bounded examples keep it well under a minute; the generated writes happen inside the
test's rolled-back transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.personas import HOSTS, TENANT_A

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 30


@pytest.fixture
def wsgi_app() -> Iterator[object]:
    from django.core.wsgi import get_wsgi_application

    # The WSGI handler would close the connection after each request, which would end
    # the test's transaction; Django's own test client disconnects it the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _every_module_on_for_a(db) -> Iterator[None]:
    """Tenant A has hr only; every module's routes are in the document, so switch every
    module on for A (rolled back with the test) and let each route reach its views."""
    from django.conf import settings as django_settings

    from apps.tenants.models import Tenant, TenantModule
    from apps.tenants.selectors import tenant_hostnames_forget

    tenant = Tenant.objects.get(schema_name=TENANT_A)
    for module in django_settings.TENANTRY_MODULES:
        TenantModule.objects.update_or_create(
            tenant=tenant, module=module, defaults={"is_enabled": True}
        )
    tenant_hostnames_forget(hostnames=[HOSTS[TENANT_A]])
    yield
    tenant_hostnames_forget(hostnames=[HOSTS[TENANT_A]])


@pytest.fixture
def tenant_api_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Host": HOSTS[TENANT_A]}
    )


schema = schemathesis.pytest.from_fixture("tenant_api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_input_makes_the_api_fail(case):
    from tests.fixtures import access_token_for

    token = access_token_for(TENANT_A, "admin")

    case.call_and_validate(
        base_url=f"http://{HOSTS[TENANT_A]}",
        headers={"Authorization": f"Bearer {token}"},
        # positive_data_acceptance is left out: a schema-valid body may still name a
        # role slug or permission codename this tenant does not have, and the schema
        # cannot list those; such bodies are rightly refused with a 4xx.
        excluded_checks=[positive_data_acceptance],
    )
