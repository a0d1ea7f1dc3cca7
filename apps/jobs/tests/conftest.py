"""Helpers of the jobs unit tests; tenants and personas come from tests.fixtures.

These tests run in pytest-django's rolled-back transaction and never need a worker:
tasks are called in-process (``Task.apply``), which runs the same ``TenantTask.__call__``
a worker runs. The live-worker tests are in tests/jobs/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def actor_of(schema_name: str, name: str):
    from apps.accounts.selectors import actor_for_user
    from apps.core.tenancy import in_tenant
    from tests.fixtures import persona

    with in_tenant(schema_name):
        return actor_for_user(user=persona(schema_name, name))


@pytest.fixture
def effect_table(db) -> str:
    """The test tasks' effect table, created inside the test's transaction (rolled back)."""
    from django.db import connection

    from tests.jobs.tasks_for_tests import EFFECT_TABLE, EFFECT_TABLE_SQL

    with connection.cursor() as cursor:
        cursor.execute(EFFECT_TABLE_SQL)
    return EFFECT_TABLE


@pytest.fixture
def sent(monkeypatch) -> list[dict[str, Any]]:
    """Replaces the Celery app's ``send_task``: every call is recorded, nothing is sent."""
    from config.celery import app

    calls: list[dict[str, Any]] = []

    def send_task(name: str, **options: Any) -> None:
        calls.append({"name": name, **options})

    monkeypatch.setattr(app, "send_task", send_task)
    return calls


@pytest.fixture
def refusing_broker() -> Iterator[str]:
    """The Celery app pointed at a port where nothing listens: every send fails for real."""
    from config.celery import app
    from tests.jobs.live import using_broker

    timeout = app.conf.broker_connection_timeout
    # The default (2 s) is how long a request waits for a dead broker; keep the tests quick.
    app.conf.broker_connection_timeout = 0.3
    try:
        with using_broker("redis://127.0.0.1:1/0"):
            yield "redis://127.0.0.1:1/0"
    finally:
        app.conf.broker_connection_timeout = timeout


@pytest.fixture(autouse=True)
def _broker_backoff_reset() -> Iterator[None]:
    """Each test starts with no remembered broker outage (apps.jobs.dispatch backs off)."""
    from apps.jobs import dispatch

    dispatch._broker_down_until = 0.0
    yield
    dispatch._broker_down_until = 0.0
