"""Helpers for the detection tests: a readings partition for the test month, readings
written straight into ``pipeline_reading``, and small makers for a zone with sensors.

The tests read and write in January 2031 (T0 below), a month no other test writes to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from apps.pipeline.tests.factories import asset_make, sensor_make, zone_make

T0 = datetime(2031, 1, 15, 12, 0, tzinfo=UTC)
MONTH_START = datetime(2031, 1, 1, tzinfo=UTC)
MONTH_END = datetime(2031, 2, 1, tzinfo=UTC)


def readings_partition_ensure() -> None:
    """The test month's partition in the current schema, through the ingestion service
    (inside the test's transaction, so it goes with the rollback unless committed)."""
    from apps.pipeline.services.ingestion import reading_partitions_ensure

    reading_partitions_ensure(months=[MONTH_START])


def readings_partition_drop() -> None:
    from apps.pipeline.models import ReadingPartition
    from apps.pipeline.services.ingestion import partition_name

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {partition_name(MONTH_START.date())}")
    ReadingPartition.objects.filter(month=MONTH_START.date()).delete()


def readings_add(sensor: Any, points: Iterable[tuple[datetime, float]]) -> None:
    """Raw values (before calibration) of ``sensor`` at the given instants."""
    rows = [(sensor.pk, at, float(value)) for at, value in points]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO pipeline_reading (sensor_id, recorded_at, value) VALUES (%s, %s, %s)",
            rows,
        )


def series(sensor: Any, values: Iterable[float], *, end: datetime = T0, step: timedelta) -> None:
    """``values`` evenly spaced by ``step``, the last one at ``end``."""
    values = list(values)
    start = end - step * (len(values) - 1)
    readings_add(sensor, [(start + step * index, value) for index, value in enumerate(values)])


def zone_with_sensor(**sensor_fields: Any) -> tuple[Any, Any]:
    zone = zone_make()
    sensor = sensor_make(asset=asset_make(zone=zone), **sensor_fields)
    return zone, sensor


def balance_sensors(zone: Any, **fields: Any) -> dict[str, Any]:
    """An inflow, an outflow and a consumption flow sensor in ``zone``, on one asset."""
    asset = asset_make(zone=zone)
    return {
        role: sensor_make(asset=asset, balance_role=role, **fields)
        for role in ("inflow", "outflow", "consumption")
    }


def rule_make(**fields: Any):
    from apps.pipeline.models import DetectionRule

    values = {"name": f"rule {fields.get('kind')}", "window_minutes": 15}
    values.update(fields)
    return DetectionRule.objects.create(**values)
