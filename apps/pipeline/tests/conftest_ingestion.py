"""Helpers of the ingestion tests (imported by test_ingestion_*.py; the shared network is
``pipeline_network`` of conftest.py, in tenant B)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.personas import HOSTS, TENANT_B


def device_client(raw_key: str | None, schema_name: str = TENANT_B, *, host: str | None = None):
    """An API client on ``schema_name``'s host that sends ``raw_key`` as its device key."""
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST=host or HOSTS[schema_name])
    if raw_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"DeviceKey {raw_key}")
    return client


def reading(sensor: Any, at: datetime, value: Any) -> dict[str, Any]:
    code = sensor if isinstance(sensor, str) else sensor.code
    return {"sensor": code, "at": at if isinstance(at, str) else at.isoformat(), "value": value}


def count_rows(sql: str, params: list[Any] | None = None, *, schema_name: str = TENANT_B) -> int:
    from apps.core.tenancy import in_tenant

    with in_tenant(schema_name), connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def reading_count(schema_name: str = TENANT_B) -> int:
    return count_rows("SELECT count(*) FROM pipeline_reading", schema_name=schema_name)


def batch_count(schema_name: str = TENANT_B) -> int:
    return count_rows("SELECT count(*) FROM pipeline_ingestbatch", schema_name=schema_name)


def stored_readings(schema_name: str = TENANT_B) -> set[tuple[Any, datetime, float]]:
    from apps.core.tenancy import in_tenant

    with in_tenant(schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT sensor_id, recorded_at, value FROM pipeline_reading")
        return set(cursor.fetchall())


@dataclass
class Keyed:
    network: Any
    raw_key: str
    key: Any
    now: datetime

    def at(self, minutes_ago: float) -> datetime:
        return self.now - timedelta(minutes=minutes_ago)


@pytest.fixture
def keyed(pipeline_network) -> Keyed:
    """The shared network with a key for its ``logger`` device, and a fixed "now" (whole
    seconds, so ISO strings round-trip)."""
    from apps.pipeline.services.ingestion import device_key_issue

    key, raw_key = device_key_issue(actor=None, device=pipeline_network.logger)
    now = timezone.now().replace(microsecond=0)
    return Keyed(network=pipeline_network, raw_key=raw_key, key=key, now=now)
