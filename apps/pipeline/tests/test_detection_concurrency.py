"""Two detection passes at the same moment still leave one active alarm per sensor and
kind: the second pass's insert meets the first one's row on the partial unique index and
refreshes it (detection_count 2), and only one of them raised it (one incident).

The threads' connections cannot see the test's own transaction, so the rows are committed
and removed afterwards (``transaction=True`` is not used: its teardown truncates the
public schema's tables, see apps/hr/tests/test_leave_concurrency.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.tenancy import in_tenant
from apps.pipeline.tests.helpers_detection import MONTH_START, T0, series
from tests.concurrency import race
from tests.personas import TENANT_B


@pytest.fixture
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Committed access instead of pytest-django's rolled-back transaction (named ``db``
    so that pytest-django sets the test database up)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def committed(db) -> Iterator[dict[str, Any]]:
    from datetime import timedelta

    from auditlog.models import LogEntry

    from apps.pipeline.models import Alarm, Asset, DetectionRule, ReadingPartition, Sensor, Zone
    from apps.pipeline.services import ingestion
    from apps.pipeline.services.ingestion import partition_name, reading_partitions_ensure
    from apps.pipeline.tests.factories import asset_make, sensor_make, zone_make

    with in_tenant(TENANT_B):
        started = timezone.now()
        created_partition = bool(reading_partitions_ensure(months=[MONTH_START]))
        zone = zone_make()
        asset = asset_make(zone=zone)
        sensor = sensor_make(asset=asset)
        rule = DetectionRule.objects.create(
            name="race", kind="threshold_high", sensor=sensor, threshold=80.0
        )
        series(sensor, [70.0, 90.0], step=timedelta(minutes=1))
    try:
        yield {"sensor": sensor, "rule": rule}
    finally:
        with in_tenant(TENANT_B):
            Alarm.objects.filter(sensor=sensor).delete()
            DetectionRule.objects.filter(pk=rule.pk).delete()
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM pipeline_reading WHERE sensor_id = %s", [sensor.pk])
                if created_partition:
                    cursor.execute(f"DROP TABLE IF EXISTS {partition_name(MONTH_START.date())}")
            if created_partition:
                ReadingPartition.objects.filter(month=MONTH_START.date()).delete()
                # The ingestion path's per-process memory of existing partitions.
                ingestion._forget_partitions()  # noqa: SLF001
            Sensor.all_objects.filter(pk=sensor.pk).delete()
            Asset.all_objects.filter(pk=asset.pk).delete()
            Zone.objects.filter(pk=zone.pk).delete()
            LogEntry.objects.filter(timestamp__gte=started).delete()


_race = partial(race, schema_name=TENANT_B)


def test_two_concurrent_passes_leave_one_alarm(committed, monkeypatch):
    from apps.pipeline.models import Alarm
    from apps.pipeline.services import detection as services
    from apps.pipeline.services import incidents as incident_services
    from apps.realtime import publish

    opened: list[Any] = []
    monkeypatch.setattr(
        incident_services,
        "incident_open_from_alarm",
        lambda *, alarm: opened.append(alarm.pk),
        raising=False,
    )
    monkeypatch.setattr(publish, "publish_event", lambda **kwargs: None)
    committed["rule"].opens_incident = True
    with in_tenant(TENANT_B):
        committed["rule"].save()

    results = _race(lambda: services.detection_run(now=T0), lambda: services.detection_run(now=T0))

    assert all(isinstance(result, services.DetectionSummary) for result in results), results
    with in_tenant(TENANT_B):
        alarm = Alarm.objects.get(sensor=committed["sensor"])
    assert (alarm.status, alarm.detection_count, alarm.value) == ("active", 2, 90.0)
    assert sorted(len(result.raised) for result in results) == [0, 1]
    assert sorted(len(result.refreshed) for result in results) == [0, 1]
    assert opened == [alarm.pk]
