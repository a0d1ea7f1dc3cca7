"""Reads of ingestion: a device's keys (never their secrets) and a sensor's readings.

Devices are seen through their asset's zone (a device on no asset only by holders of
``pipeline.access_all_zones``); readings through their sensor's zone. A row the actor
may not see is a 404, like a row that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.pipeline.errors import ReadingWindowInvalidError
from apps.pipeline.models import Device, DeviceKey, Reading, Sensor
from apps.pipeline.selectors.network import zone_scope_filter

PERM_VIEW_KEYS = "pipeline.view_devicekey"
PERM_VIEW_SENSORS = "pipeline.view_sensor"
MAX_WINDOW = timedelta(days=400)
DEFAULT_WINDOW = timedelta(hours=24)
MAX_READINGS_LIMIT = 10_000
DEFAULT_READINGS_LIMIT = 1_000


def device_get_for_keys(*, actor: Actor, device_id: object) -> Device:
    """A live device the actor may see, to list or manage its keys (checked by the
    callers' own permission)."""
    device = (
        zone_scope_filter(Device.objects.all(), actor=actor, field="asset__zone")
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        raise NotFoundError()
    return device


def device_key_list(*, actor: Actor, device: Device) -> QuerySet[DeviceKey]:
    require_perm(actor, PERM_VIEW_KEYS)
    return DeviceKey.objects.filter(device=device)


def device_key_get(*, actor: Actor, key_id: object) -> DeviceKey:
    """A key of a live device the actor may see."""
    key = (
        zone_scope_filter(
            DeviceKey.objects.select_related("device").filter(device__deleted_at__isnull=True),
            actor=actor,
            field="device__asset__zone",
        )
        .filter(pk=key_id)
        .first()
    )
    if key is None:
        raise NotFoundError()
    return key


def sensor_get_for_readings(*, actor: Actor, sensor_id: object) -> Sensor:
    require_perm(actor, PERM_VIEW_SENSORS)
    sensor = zone_scope_filter(Sensor.objects.all(), actor=actor).filter(pk=sensor_id).first()
    if sensor is None:
        raise NotFoundError()
    return sensor


@dataclass(frozen=True)
class ReadingPoint:
    at: datetime
    value: float  # calibrated: raw * calibration_factor + calibration_offset
    raw_value: float


@dataclass(frozen=True)
class ReadingSeries:
    sensor: Sensor
    since: datetime
    until: datetime
    points: list[ReadingPoint]
    truncated: bool  # more readings lie in the window after the last point


def readings_list(
    *,
    actor: Actor,
    sensor: Sensor,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = DEFAULT_READINGS_LIMIT,
) -> ReadingSeries:
    """``sensor``'s readings in [since, until), oldest first, at most ``limit``, with
    the sensor's current calibration applied. ``until`` defaults to now and ``since`` to
    24 hours before it; a window that is empty or longer than 400 days raises
    ReadingWindowInvalidError (400). ``sensor`` comes from ``sensor_get_for_readings``."""
    require_perm(actor, PERM_VIEW_SENSORS)
    until = until or timezone.now()
    since = since or until - DEFAULT_WINDOW
    if since >= until or until - since > MAX_WINDOW:
        raise ReadingWindowInvalidError(since=since.isoformat(), until=until.isoformat())
    limit = max(1, min(limit, MAX_READINGS_LIMIT))
    rows = list(
        Reading.objects.filter(sensor_id=sensor.pk, recorded_at__gte=since, recorded_at__lt=until)
        .order_by("recorded_at")
        .values_list("recorded_at", "value")[: limit + 1]
    )
    factor, offset = sensor.calibration_factor, sensor.calibration_offset
    points = [
        ReadingPoint(at=at, value=value * factor + offset, raw_value=value)
        for at, value in rows[:limit]
    ]
    return ReadingSeries(
        sensor=sensor, since=since, until=until, points=points, truncated=len(rows) > limit
    )
