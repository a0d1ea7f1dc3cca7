"""Small helpers of the board and report tests: incidents written with the ORM and their
``pipeline.incident.updated`` event published as the incidents services do (to the
users who may see the zone), readings written straight into their monthly partition."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from apps.pipeline.tests.factories import BASE_LATITUDE, BASE_LONGITUDE

INCIDENT_EVENT = "pipeline.incident.updated"


def incident_make(*, zone: Any, **fields: Any):
    from apps.pipeline.models import Incident

    values = {
        "number": f"INC-T{uuid.uuid4().hex[:8].upper()}",
        "title": "Burst main",
        "severity": "high",
        "source": Incident.Source.MANUAL,
        "zone": zone,
        "latitude": BASE_LATITUDE,
        "longitude": BASE_LONGITUDE,
    }
    values.update(fields)
    return Incident.objects.create(**values)


def incident_publish(incident: Any) -> None:
    """What every incident change publishes, from the current schema."""
    from apps.pipeline.models import Incident
    from apps.pipeline.selectors.incidents import incident_summary
    from apps.pipeline.selectors.network import zone_audience_user_ids
    from apps.realtime.publish import publish_event

    fresh = Incident.objects.select_related("zone", "asset", "assigned_team").get(pk=incident.pk)
    publish_event(
        event_type=INCIDENT_EVENT,
        payload=incident_summary(fresh),
        user_ids=zone_audience_user_ids(zone_id=fresh.zone_id),
    )


def reading_partition_ensure(month: date) -> None:
    """The month's partition of pipeline_reading (the ingestion service's when present)."""
    from django.db import connection

    try:
        from apps.pipeline.services.ingestion import reading_partitions_ensure
    except ImportError:
        reading_partitions_ensure = None
    first = month.replace(day=1)
    if reading_partitions_ensure is not None:
        reading_partitions_ensure(months=[first])
        return
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    name = f"pipeline_reading_{first:%Y%m}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF pipeline_reading "  # noqa: S608
            f"FOR VALUES FROM ('{first.isoformat()}') TO ('{after.isoformat()}')"
        )


def readings_add(sensor: Any, values: list[tuple[datetime, float]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO pipeline_reading (sensor_id, recorded_at, value) VALUES (%s, %s, %s)",
            [(sensor.pk, at, value) for at, value in values],
        )
