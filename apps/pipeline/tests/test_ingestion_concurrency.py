"""The same batch posted twice at the same moment: the unique constraint decides, the loser
answers as a replay (or a conflict when its readings differ), and the readings are stored
once. Both also race to create the month's partition.

Two threads, each with its own database connection, meet at a barrier. They need
committed rows (the threads cannot see the test's transaction), so the test writes with
committed access and removes what it wrote, partitions included (see
apps/hr/tests/test_leave_concurrency.py for why not ``transaction=True``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.tenancy import in_tenant
from apps.pipeline.errors import BatchConflictError
from apps.pipeline.tests.conftest_ingestion import reading
from tests.concurrency import race
from tests.personas import TENANT_B


@pytest.fixture
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Committed access instead of pytest-django's rolled-back transaction."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def committed(db) -> Iterator[dict[str, Any]]:
    from auditlog.models import LogEntry

    from apps.pipeline.models import (
        Asset,
        Device,
        DeviceKey,
        IngestBatch,
        ReadingPartition,
        Sensor,
        Zone,
    )
    from apps.pipeline.services import ingestion
    from apps.pipeline.tests import factories as f

    with in_tenant(TENANT_B):
        started = timezone.now()
        months_before = set(ReadingPartition.objects.values_list("month", flat=True))
        zone = f.zone_make(f.unique_code("RACE"))
        asset = f.asset_make(zone=zone)
        device = f.device_make(asset=asset)
        sensor = f.sensor_make(asset=asset, device=device)
    try:
        yield {"device": device, "sensor": sensor}
    finally:
        with in_tenant(TENANT_B), connection.cursor() as cursor:
            cursor.execute("DELETE FROM pipeline_reading WHERE sensor_id = %s", [sensor.pk])
            IngestBatch.objects.filter(device=device).delete()
            DeviceKey.objects.filter(device=device).delete()
            Sensor.all_objects.filter(pk=sensor.pk).delete()
            Device.all_objects.filter(pk=device.pk).delete()
            Asset.all_objects.filter(pk=asset.pk).delete()
            Zone.objects.filter(pk=zone.pk).delete()
            LogEntry.objects.filter(timestamp__gte=started).delete()
            for month in set(ReadingPartition.objects.values_list("month", flat=True)) - (
                months_before
            ):
                cursor.execute(f"DROP TABLE IF EXISTS {ingestion.partition_name(month)}")
                ReadingPartition.objects.filter(month=month).delete()
        ingestion._known_months.pop(TENANT_B, None)  # noqa: SLF001


_race = partial(race, schema_name=TENANT_B)


def _stored(sensor) -> tuple[int, int]:
    from apps.pipeline.models import IngestBatch

    with in_tenant(TENANT_B), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pipeline_reading WHERE sensor_id = %s", [sensor.pk])
        readings = cursor.fetchone()[0]
        return readings, IngestBatch.objects.filter(device__sensors=sensor).count()


def _readings(sensor, count: int, value: float = 1.0) -> list[dict[str, Any]]:
    now = timezone.now().replace(microsecond=0)
    return [
        reading(sensor, now - timedelta(seconds=30 * index), value + index % 500)
        for index in range(count)
    ]


def test_the_same_batch_twice_at_once_is_stored_once(committed):
    from apps.pipeline.services.ingestion import readings_ingest

    device, sensor = committed["device"], committed["sensor"]
    batch_id = f"race-{uuid.uuid4().hex[:8]}"
    readings = _readings(sensor, 500)

    def post() -> Any:
        return readings_ingest(device=device, batch_id=batch_id, readings=readings)

    results = _race(post, post)

    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted(result.replayed for result in results) == [False, True]
    assert {result.accepted for result in results} == {500}
    assert _stored(sensor) == (500, 1)


def test_the_same_batch_id_with_other_readings_at_once_conflicts(committed):
    from apps.pipeline.services.ingestion import readings_ingest

    device, sensor = committed["device"], committed["sensor"]
    batch_id = f"race-{uuid.uuid4().hex[:8]}"
    first, second = _readings(sensor, 200, 1.0), _readings(sensor, 200, 5.0)

    results = _race(
        lambda: readings_ingest(device=device, batch_id=batch_id, readings=first),
        lambda: readings_ingest(device=device, batch_id=batch_id, readings=second),
    )

    conflicts = [result for result in results if isinstance(result, BatchConflictError)]
    stored = [result for result in results if not isinstance(result, Exception)]
    assert len(conflicts) == 1, results
    assert len(stored) == 1
    assert stored[0].replayed is False
    assert _stored(sensor) == (200, 1)


def test_two_batches_sharing_readings_in_opposite_orders_both_go_through(committed):
    """Each batch waits on the other's uncommitted rows; written in one global order (by
    sensor, then time) they cannot deadlock, and the loser counts the shared ones as
    duplicates."""
    from apps.pipeline.services.ingestion import readings_ingest
    from apps.pipeline.tests import factories as f

    device, sensor = committed["device"], committed["sensor"]
    with in_tenant(TENANT_B):
        other = f.sensor_make(asset=sensor.asset, device=device)
    shared = _readings(sensor, 4_000) + _readings(other, 4_000)
    first = shared
    second = list(reversed(shared))

    try:
        results = _race(
            lambda: readings_ingest(device=device, batch_id="one", readings=first),
            lambda: readings_ingest(device=device, batch_id="two", readings=second),
        )
    finally:
        with in_tenant(TENANT_B), connection.cursor() as cursor:
            cursor.execute("DELETE FROM pipeline_reading WHERE sensor_id = %s", [other.pk])
            readings_of_other = cursor.rowcount
            from apps.pipeline.models import Sensor

            Sensor.all_objects.filter(pk=other.pk).delete()

    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted((r.accepted, r.duplicates) for r in results) == [(0, 8_000), (8_000, 0)]
    assert readings_of_other == 4_000
    assert _stored(sensor)[0] == 4_000
