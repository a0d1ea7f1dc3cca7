"""Helpers for the schedules tests; tenants and personas come from tests.fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.personas import TENANT_A


def error_of(response: Any) -> dict[str, Any]:
    return response.json()["error"]


def actor_of(schema_name: str, name: str):
    """The Actor of persona ``name`` in ``schema_name``, as the API would build it."""
    from apps.accounts.selectors import actor_for_user
    from apps.core.tenancy import in_tenant
    from tests.fixtures import persona

    with in_tenant(schema_name):
        return actor_for_user(user=persona(schema_name, name))


def beat_entry(schema_name: str, schedule_id: Any):
    """The PeriodicTask (with its crontab) of a schedule, or None."""
    from django_celery_beat.models import PeriodicTask

    from apps.core.tenancy import in_public
    from apps.schedules.services import beat_entry_name

    with in_public():
        return (
            PeriodicTask.objects.select_related("crontab")
            .filter(name=beat_entry_name(schema_name=schema_name, schedule_id=schedule_id))
            .first()
        )


def beat_kwargs(entry: Any) -> dict[str, Any]:
    return json.loads(entry.kwargs)


@pytest.fixture
def make_schedule(tenant_a, tenant_b):
    """``make_schedule(TENANT_A, name=..., cron=...)``: a schedule made by that tenant's admin."""
    from apps.core.tenancy import in_tenant
    from apps.schedules.services import schedule_create

    tenants = {tenant_a.schema_name: tenant_a, tenant_b.schema_name: tenant_b}

    def make(schema_name: str = TENANT_A, **overrides: Any):
        values = {
            "name": "Morning heartbeat",
            "task": "schedules.heartbeat",
            "cron_expression": "0 9 * * *",
            "timezone": "America/New_York",
            "params": {"note": "hello"},
        }
        values.update(overrides)
        with in_tenant(schema_name):
            return schedule_create(
                actor=actor_of(schema_name, "admin"), tenant=tenants[schema_name], **values
            )

    return make
