"""A tenant request switches the schema once: exactly one ``SET search_path`` each.

django-tenants issues ``SET search_path`` from ``DatabaseWrapper._handle_search_path`` on
a raw driver cursor, below Django's execute wrappers, so ``CaptureQueriesContext`` and
``connection.execute_wrapper`` never see it. The statements are counted at the driver
instead: while the ``search_path_sets`` fixture is active, the connection's cursor factory
is a subclass whose ``execute`` records every ``SET search_path`` that really runs (with
``TENANT_LIMIT_SET_CALLS`` a switch that is never followed by a query costs nothing, and
is not counted either).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from apps.core import tenancy
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

USERS_URL = "/api/v1/users/"


@pytest.fixture
def search_path_sets() -> Iterator[list[str]]:
    """The ``SET search_path`` statements executed on the default connection, in order."""
    connection.ensure_connection()
    raw = connection.connection
    original = raw.cursor_factory
    executed: list[str] = []

    class CountingCursor(original):
        def execute(self, query, params=None, **kwargs):
            if isinstance(query, str) and query.lstrip().lower().startswith("set search_path"):
                executed.append(query)
            return super().execute(query, params, **kwargs)

    raw.cursor_factory = CountingCursor
    try:
        yield executed
    finally:
        raw.cursor_factory = original


def test_counter_sees_every_schema_switch(search_path_sets):
    from apps.accounts.models import User

    with tenancy.in_tenant(TENANT_A):
        User.objects.count()
    with tenancy.in_tenant(TENANT_B):
        User.objects.count()

    assert len(search_path_sets) == 2
    assert f'"{TENANT_A}"' in search_path_sets[0]
    assert f'"{TENANT_B}"' in search_path_sets[1]


def test_authenticated_tenant_request_sets_search_path_exactly_once(api_client, search_path_sets):
    client = api_client(TENANT_A, "admin")
    # The first request may find the host lookup cold (tests/tenancy/conftest.py forgets
    # it after every test) and read the domain in public first; from then on it is served
    # from Redis, as it is on a running server.
    assert client.get(USERS_URL).status_code == 200

    per_request = []
    for _ in range(3):
        seen = len(search_path_sets)
        response = client.get(USERS_URL)
        assert response.status_code == 200
        assert response.json()["results"]
        per_request.append(search_path_sets[seen:])

    assert [len(statements) for statements in per_request] == [1, 1, 1]
    assert all(f'"{TENANT_A}"' in statements[0] for statements in per_request)
