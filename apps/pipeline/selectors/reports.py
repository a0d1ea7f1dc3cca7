"""Reads behind the pipeline reports (apps/pipeline/reports.py): the stored daily water
balances and the per-sensor reading statistics of a period, both limited to the zones the
requesting actor may see.

The water-loss figures are the detection sub-domain's ``ZoneWaterBalance`` rows as stored;
nothing here recomputes a balance. The sensor statistics come from one aggregate query
over the readings of the period (monthly partitions are pruned by the time bounds).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Avg, Count, Max, Min, QuerySet, Sum

from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.pipeline.models import Sensor, Zone, ZoneWaterBalance
from apps.pipeline.selectors.network import zone_ids_visible, zone_ids_with_descendants

FETCH_SIZE = 2000


def report_zone_ids(*, actor: Actor, zone_id: Any = None) -> set[str] | None:
    """The zones a report covers: ``zone_id`` and the zones under it (when given), of
    those the actor may see; None means every zone. A zone the actor may not see, or
    that does not exist, is ``NotFoundError``."""
    visible = zone_ids_visible(actor=actor)
    if zone_id is None:
        return visible
    if not Zone.objects.filter(pk=zone_id).exists() or (
        visible is not None and str(zone_id) not in visible
    ):
        raise NotFoundError(zone=str(zone_id))
    covered = zone_ids_with_descendants([zone_id])
    return covered if visible is None else covered & visible


def _in_zones(queryset: QuerySet, zone_ids: set[str] | None, field: str = "zone") -> QuerySet:
    return queryset if zone_ids is None else queryset.filter(**{f"{field}__in": list(zone_ids)})


def water_balance_days(
    *, zone_ids: set[str] | None, date_from: date, date_to: date
) -> QuerySet[ZoneWaterBalance]:
    """The stored balances of the period, one per zone and day, by zone code then day."""
    return _in_zones(
        ZoneWaterBalance.objects.filter(day__gte=date_from, day__lte=date_to), zone_ids
    ).order_by("zone__code", "day")


def water_balance_totals(
    *, zone_ids: set[str] | None, date_from: date, date_to: date
) -> QuerySet[ZoneWaterBalance]:
    """Per zone over the period (by zone code): days with a balance, volume sums, the
    smallest and largest day's loss share, the mean coverage and the highest minimum
    night flow. The period's loss share (sum of losses over sum of inflows) is left to
    the caller, as it is undefined without inflow."""
    return (
        water_balance_days(zone_ids=zone_ids, date_from=date_from, date_to=date_to)
        .order_by()
        .values("zone_id", "zone__code", "zone__name")
        .annotate(
            days=Count("id"),
            inflow=Sum("inflow_m3"),
            outflow=Sum("outflow_m3"),
            consumption=Sum("consumption_m3"),
            loss=Sum("loss_m3"),
            loss_pct_min=Min("loss_pct"),
            loss_pct_max=Max("loss_pct"),
            coverage=Avg("coverage"),
            night_flow_max=Max("min_night_flow_m3h"),
        )
        .order_by("zone__code")
    )


def water_balance_loss_series(
    *, zone_ids: set[str] | None, date_from: date, date_to: date
) -> QuerySet[ZoneWaterBalance]:
    """(day, zone code, loss %) of every stored balance of the period, by day."""
    return (
        water_balance_days(zone_ids=zone_ids, date_from=date_from, date_to=date_to)
        .order_by("day", "zone__code")
        .values_list("day", "zone__code", "loss_pct")
    )


def report_time_zone() -> tzinfo:
    """The tenant's time zone, in which report periods are local days (the detection
    sub-domain's, so that a day here is the day of the stored balances)."""
    try:
        from apps.pipeline.services.detection import tenant_time_zone
    except ImportError:
        return ZoneInfo("UTC")
    return tenant_time_zone()


def period_bounds(*, date_from: date, date_to: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The instants at which local ``date_from`` starts and the day after ``date_to``
    starts."""
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start, end


def sensor_count(*, zone_ids: set[str] | None) -> int:
    return _in_zones(Sensor.objects.all(), zone_ids).count()


# One pass over the period's readings: per sensor, how many arrived, how many were
# outside the sensor's valid range after calibration, and their calibrated mean. The
# expected count uses the sensor's interval over the whole period. Sensors without a
# single reading are listed too (LEFT JOIN), with zero received.
_SENSOR_ACCURACY_SQL = """
SELECT s.code, z.code, s.kind, s.unit, s.expected_interval_seconds,
       floor(%(seconds)s / s.expected_interval_seconds)::bigint AS expected,
       count(r.recorded_at) AS received,
       count(r.recorded_at) FILTER (
           WHERE r.value * s.calibration_factor + s.calibration_offset < s.valid_min
              OR r.value * s.calibration_factor + s.calibration_offset > s.valid_max
       ) AS out_of_range,
       avg(r.value * s.calibration_factor + s.calibration_offset) AS mean,
       s.reference_value, s.calibrated_on, s.valid_min, s.valid_max
FROM pipeline_sensor s
JOIN pipeline_zone z ON z.id = s.zone_id
LEFT JOIN pipeline_reading r
       ON r.sensor_id = s.id AND r.recorded_at >= %(start)s AND r.recorded_at < %(end)s
WHERE s.deleted_at IS NULL {zone_filter}
GROUP BY s.id, z.code
ORDER BY z.code, s.code
"""


def sensor_accuracy_raw(
    *, zone_ids: set[str] | None, start: datetime, end: datetime
) -> Iterator[tuple[Any, ...]]:
    """Per sensor of the zones (retired sensors left out), by zone then sensor code:
    (code, zone code, kind, unit, interval s, expected, received, out of range, mean
    calibrated value, reference value, calibrated on, valid min, valid max).

    Read through a server-side cursor, so the worker holds one batch of sensors at a
    time (a plain cursor behind PgBouncer in transaction mode, where those are off)."""
    params: dict[str, Any] = {
        "seconds": (end - start).total_seconds(),
        "start": start,
        "end": end,
    }
    zone_filter = ""
    if zone_ids is not None:
        zone_filter = "AND s.zone_id = ANY(%(zones)s::uuid[])"
        params["zones"] = sorted(zone_ids)
    sql = _SENSOR_ACCURACY_SQL.format(zone_filter=zone_filter)
    if connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        cursor = connection.cursor()
    else:
        cursor = connection.chunked_cursor()
    with cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(FETCH_SIZE)
            if not rows:
                return
            yield from rows
