"""Schemathesis over the network routes on tenant B (which has the pipeline module; the
project-wide run in tests/api/test_schemathesis.py goes to tenant A, where these routes
are switched off and answer 404). No input makes them answer 5xx, and every answer
matches the OpenAPI document. Generated writes are rolled back with the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.personas import HOSTS, TENANT_B

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25
NETWORK_PATHS = r"^/api/v1/pipeline/(zones|assets|sensors|devices|teams)/"


@pytest.fixture
def wsgi_app() -> Iterator[object]:
    from django.core.wsgi import get_wsgi_application

    # As in tests/api/test_schemathesis.py: keep the test's transaction open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def network_api_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Host": HOSTS[TENANT_B]}
    )


schema = schemathesis.pytest.from_fixture("network_api_schema").include(path_regex=NETWORK_PATHS)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_input_makes_the_network_api_fail(case):
    from tests.fixtures import access_token_for

    token = access_token_for(TENANT_B, "admin")

    case.call_and_validate(
        base_url=f"http://{HOSTS[TENANT_B]}",
        headers={"Authorization": f"Bearer {token}"},
        # A schema-valid body may still name a zone, asset or user that does not exist
        # (random uuids); such bodies are rightly refused with a 4xx.
        excluded_checks=[positive_data_acceptance],
    )
