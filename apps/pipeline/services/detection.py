"""Pipeline services: detection. Rules (create, change, delete), the detection pass that
raises, refreshes and clears alarms, clearing an alarm by hand, and the daily water
balance of each zone.

Invalid rule input raises Django's ValidationError with field names (400).

The detection pass is set-based: one SQL statement per rule kind evaluates every active
rule of that kind against the readings of its window (calibrated on the way: raw *
calibration_factor + calibration_offset), so its cost in queries does not grow with the
number of sensors or rules. Alarms are written with ``INSERT ... ON CONFLICT`` on the
partial unique indexes of ``Alarm`` (one active alarm per sensor, or zone, and kind):
a repeated detection refreshes the active alarm (value, last_detected_at,
detection_count + 1) instead of adding one, also when two passes run at once.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.accounts.selectors import require_perm
from apps.core.errors import ApplicationError
from apps.core.tenancy import current_schema, current_tenant, in_public
from apps.core.types import Actor
from apps.pipeline.errors import AlarmNotActiveError
from apps.pipeline.models import (
    LEAK_KINDS,
    SENSOR_KINDS,
    Alarm,
    AlarmKind,
    DetectionRule,
    Sensor,
    Zone,
    ZoneWaterBalance,
)
from apps.pipeline.selectors.network import zone_audience_user_ids, zone_visible_to

logger = logging.getLogger("tenantry.pipeline.detection")

# Kinds a rule may have. water_loss is not one: it follows the zone's own limit
# (Zone.loss_alarm_pct) and is raised by the daily water balance.
RULE_KINDS = frozenset(SENSOR_KINDS | {AlarmKind.FLOW_IMBALANCE, AlarmKind.NIGHT_FLOW})
RULE_ZONE_KINDS = frozenset({AlarmKind.FLOW_IMBALANCE, AlarmKind.NIGHT_FLOW})
# Kinds given as a percentage of something: 0 < threshold <= 100.
PERCENT_KINDS = frozenset({AlarmKind.PRESSURE_DROP, AlarmKind.FLOW_IMBALANCE})
WINDOW_MIN, WINDOW_MAX = 1, 10080

# A flat line needs this many readings in its window: two equal readings prove little.
FLAT_LINE_MIN_READINGS = 3
# pressure_drop compares the window's mean with the mean of the preceding
# PRESSURE_BASELINE_WINDOWS windows.
PRESSURE_BASELINE_WINDOWS = 6
# Minimum night flow: the hourly means between these local hours of the last night.
NIGHT_FROM, NIGHT_TO = time(2, 0), time(4, 0)
# A day with fewer of its expected readings than this raises no water-loss alarm: a
# silent consumption meter would look like a leak.
WATER_LOSS_MIN_COVERAGE = 0.5

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


# --- rules ------------------------------------------------------------------------------

RULE_FIELDS = (
    "name",
    "kind",
    "sensor",
    "zone",
    "threshold",
    "window_minutes",
    "severity",
    "opens_incident",
    "required_skill",
    "is_active",
)


def _rule_apply(
    rule: DetectionRule, *, actor: Actor, data: Mapping[str, Any]
) -> dict[str, list[str]]:
    """Set ``data`` on ``rule``; the ids of ``sensor`` and ``zone`` are looked up in what
    the actor may see. Returns field errors for unknown ones."""
    errors: dict[str, list[str]] = {}
    for name in RULE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "sensor":
            sensor = None
            if value is not None:
                sensor = Sensor.objects.filter(pk=value).first()
                if sensor is None or not zone_visible_to(actor=actor, zone_id=sensor.zone_id):
                    errors["sensor"] = ["Unknown sensor."]
                    continue
            rule.sensor = sensor
        elif name == "zone":
            zone = None
            if value is not None:
                zone = Zone.objects.filter(pk=value).first()
                if zone is None or not zone_visible_to(actor=actor, zone_id=zone.pk):
                    errors["zone"] = ["Unknown zone."]
                    continue
            rule.zone = zone
        elif name == "required_skill":
            from apps.pipeline.services.network import skill_normalize

            try:
                rule.required_skill = skill_normalize(value) if value else ""
            except ValueError as error:
                errors["required_skill"] = [str(error)]
        else:
            setattr(rule, name, value)
    return errors


def detection_rule_errors(rule: DetectionRule) -> dict[str, list[str]]:
    """Every broken rule of the whole row: target, kind, threshold and window."""
    errors: dict[str, list[str]] = {}
    if rule.kind not in RULE_KINDS:
        errors["kind"] = [
            "Not a rule kind."
            if rule.kind != AlarmKind.WATER_LOSS
            else "Water loss follows the zone's loss_alarm_pct, not a rule."
        ]
    has_sensor, has_zone = rule.sensor_id is not None, rule.zone_id is not None
    if has_sensor and has_zone:
        errors["zone"] = ["Give a sensor or a zone, not both."]
    elif not has_sensor and not has_zone:
        target = "zone" if rule.kind in RULE_ZONE_KINDS else "sensor"
        errors[target] = [f"A {rule.kind} rule needs a {target}."]
    elif "kind" not in errors:
        if has_sensor and rule.kind in RULE_ZONE_KINDS:
            errors["kind"] = [f"{rule.kind} is a zone kind: give a zone instead of a sensor."]
        elif has_zone and rule.kind in SENSOR_KINDS:
            errors["kind"] = [f"{rule.kind} is a sensor kind: give a sensor instead of a zone."]
    threshold = rule.threshold
    if rule.kind != AlarmKind.MISSING_DATA and "kind" not in errors:
        if threshold is None:
            errors["threshold"] = ["Required for this kind."]
        elif not math.isfinite(threshold):
            errors["threshold"] = ["Must be a finite number."]
        elif rule.kind in PERCENT_KINDS and not 0 < threshold <= 100:
            errors["threshold"] = ["A percentage above 0 and at most 100."]
        elif rule.kind in {AlarmKind.RATE_OF_CHANGE, AlarmKind.FLAT_LINE} and threshold <= 0:
            errors["threshold"] = ["Must be above 0."]
        elif rule.kind == AlarmKind.NIGHT_FLOW and threshold < 0:
            errors["threshold"] = ["Must not be negative."]
    window = rule.window_minutes
    if not isinstance(window, int) or not WINDOW_MIN <= window <= WINDOW_MAX:
        errors["window_minutes"] = [f"From {WINDOW_MIN} to {WINDOW_MAX} minutes."]
    if not (rule.name or "").strip():
        errors["name"] = ["Required."]
    return errors


def _rule_save(rule: DetectionRule, *, actor: Actor, errors: dict, created: bool):
    errors = {**detection_rule_errors(rule), **errors}
    if errors:
        raise ValidationError(errors)
    if created:
        rule.created_by = actor.user
    rule.updated_by = actor.user
    rule.save()
    return rule


@transaction.atomic
def detection_rule_create(*, actor: Actor, data: Mapping[str, Any]) -> DetectionRule:
    """``data``: name, kind, sensor or zone (ids), threshold, window_minutes, severity,
    opens_incident, required_skill, is_active. Every invalid field is named in one ValidationError;
    nothing is stored then."""
    require_perm(actor, "pipeline.add_detectionrule")
    rule = DetectionRule()
    errors = _rule_apply(rule, actor=actor, data=data)
    return _rule_save(rule, actor=actor, errors=errors, created=True)


@transaction.atomic
def detection_rule_update(
    *, actor: Actor, rule: DetectionRule, data: Mapping[str, Any]
) -> DetectionRule:
    """The changed rule is validated whole (a new kind must fit the target it keeps).
    Alarms it raised stay until the next detection pass clears them."""
    require_perm(actor, "pipeline.change_detectionrule")
    errors = _rule_apply(rule, actor=actor, data=data)
    return _rule_save(rule, actor=actor, errors=errors, created=False)


@transaction.atomic
def detection_rule_delete(*, actor: Actor, rule: DetectionRule) -> None:
    """Its alarms stay (their rule becomes empty); the next pass clears active ones."""
    require_perm(actor, "pipeline.delete_detectionrule")
    rule.delete()


# --- the detection pass ------------------------------------------------------------------


@dataclass
class DetectionSummary:
    rules_evaluated: int = 0
    raised: list[str] = field(default_factory=list)  # ids of alarms raised by this pass
    refreshed: list[str] = field(default_factory=list)  # ids of active alarms detected again
    cleared: list[str] = field(default_factory=list)
    incidents_opened: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rules_evaluated": self.rules_evaluated,
            "raised": len(self.raised),
            "refreshed": len(self.refreshed),
            "cleared": len(self.cleared),
            "incidents_opened": len(self.incidents_opened),
        }


@dataclass(frozen=True)
class _Hit:
    """One rule whose condition holds now."""

    rule_id: Any
    kind: str
    severity: str
    opens_incident: bool
    threshold: float | None
    window_minutes: int
    sensor_id: Any
    zone_id: Any
    target_code: str
    value: float | None
    extra: dict

    @property
    def key(self) -> str:
        return alarm_key(kind=self.kind, sensor_id=self.sensor_id, zone_id=self.zone_id)


def alarm_key(*, kind: str, sensor_id: Any, zone_id: Any) -> str:
    """What one active alarm stands for: its kind and its sensor, or its zone."""
    target = str(sensor_id) if sensor_id is not None else f"zone:{zone_id}"
    return f"{kind}:{target}"


# The rule's columns every kind's statement starts with (see _Hit).
_RULE_COLUMNS = "r.id, r.kind, r.severity, r.opens_incident, r.threshold, r.window_minutes"
_ACTIVE_SENSOR = "s.deleted_at IS NULL AND s.is_active"
_CALIBRATED = "(x.value * s.calibration_factor + s.calibration_offset)"
# ``earliest`` (now minus the longest look-back any rule can have) is a constant bound,
# so the planner prunes the partitions no window reaches.
_IN_WINDOW = (
    "x.recorded_at > %(now)s - make_interval(mins => r.window_minutes)"
    " AND x.recorded_at > %(earliest)s AND x.recorded_at <= %(now)s"
)

# Readings are always read per sensor (a lateral probe of the partitions' primary key,
# sensor_id + recorded_at) and only from the partitions the window touches.
_WINDOW_READINGS = (
    "SELECT x.recorded_at, x.value FROM pipeline_reading x"  # noqa: S608 - constants only
    f" WHERE x.sensor_id = s.id AND {_IN_WINDOW}"
)
_NIGHT_READINGS = (
    "SELECT x.recorded_at, x.value FROM pipeline_reading x WHERE x.sensor_id = s.id"
    " AND x.recorded_at >= %(night_start)s AND x.recorded_at < %(night_end)s"
)

# The latest calibrated reading in the window beyond the limit.
_THRESHOLD_SQL = f"""
SELECT {_RULE_COLUMNS}, s.id, s.zone_id, s.code, last.v,
       jsonb_build_object('recorded_at', last.recorded_at)
FROM pipeline_detectionrule r
JOIN pipeline_sensor s ON s.id = r.sensor_id AND {_ACTIVE_SENSOR}
CROSS JOIN LATERAL (
    SELECT {_CALIBRATED} AS v, x.recorded_at
    FROM pipeline_reading x
    WHERE x.sensor_id = s.id AND {_IN_WINDOW}
    ORDER BY x.recorded_at DESC
    LIMIT 1
) last
WHERE r.is_active AND r.kind IN ('threshold_high', 'threshold_low')
  AND CASE WHEN r.kind = 'threshold_high' THEN last.v > r.threshold
           ELSE last.v < r.threshold END
"""  # noqa: S608 - constants only

# The steepest change per minute between consecutive readings of the window.
_RATE_SQL = f"""
WITH points AS (
    SELECT r.id AS rule_id, x.recorded_at, {_CALIBRATED} AS v
    FROM pipeline_detectionrule r
    JOIN pipeline_sensor s ON s.id = r.sensor_id AND {_ACTIVE_SENSOR}
    CROSS JOIN LATERAL ({_WINDOW_READINGS}) x
    WHERE r.is_active AND r.kind = 'rate_of_change'
), steps AS (
    SELECT rule_id, recorded_at,
           abs(v - lag(v) OVER w)
             / (extract(epoch FROM recorded_at - lag(recorded_at) OVER w)::float8 / 60.0)
             AS rate
    FROM points
    WINDOW w AS (PARTITION BY rule_id ORDER BY recorded_at)
), steepest AS (
    SELECT DISTINCT ON (rule_id) rule_id, rate, recorded_at
    FROM steps WHERE rate IS NOT NULL
    ORDER BY rule_id, rate DESC
)
SELECT {_RULE_COLUMNS}, s.id, s.zone_id, s.code, st.rate,
       jsonb_build_object('recorded_at', st.recorded_at)
FROM steepest st
JOIN pipeline_detectionrule r ON r.id = st.rule_id
JOIN pipeline_sensor s ON s.id = r.sensor_id
WHERE st.rate > r.threshold
"""  # noqa: S608 - constants only

# A spread (max - min) below the threshold over enough readings: a stuck sensor.
_FLAT_LINE_SQL = f"""
SELECT {_RULE_COLUMNS}, s.id, s.zone_id, s.code,
       max({_CALIBRATED}) - min({_CALIBRATED}),
       jsonb_build_object('readings', count(*))
FROM pipeline_detectionrule r
JOIN pipeline_sensor s ON s.id = r.sensor_id AND {_ACTIVE_SENSOR}
CROSS JOIN LATERAL ({_WINDOW_READINGS}) x
WHERE r.is_active AND r.kind = 'flat_line'
GROUP BY r.id, s.id
HAVING count(*) >= %(flat_min)s AND max({_CALIBRATED}) - min({_CALIBRATED}) < r.threshold
"""  # noqa: S608 - constants only

# No reading for the window. A rule or sensor younger than its window is not judged yet.
# The value is the silence in minutes (null when the sensor never sent anything).
_MISSING_SQL = f"""
SELECT {_RULE_COLUMNS}, s.id, s.zone_id, s.code,
       extract(epoch FROM %(now)s - last.recorded_at)::float8 / 60.0,
       jsonb_build_object('last_reading_at', last.recorded_at)
FROM pipeline_detectionrule r
JOIN pipeline_sensor s ON s.id = r.sensor_id AND {_ACTIVE_SENSOR}
LEFT JOIN LATERAL (
    SELECT x.recorded_at FROM pipeline_reading x
    WHERE x.sensor_id = s.id AND x.recorded_at <= %(now)s
    ORDER BY x.recorded_at DESC
    LIMIT 1
) last ON true
WHERE r.is_active AND r.kind = 'missing_data'
  AND GREATEST(r.created_at, s.created_at) <= %(now)s - make_interval(mins => r.window_minutes)
  AND (last.recorded_at IS NULL
       OR last.recorded_at <= %(now)s - make_interval(mins => r.window_minutes))
"""  # noqa: S608 - constants only

# The window's mean against the mean of the baseline windows before it, in percent.
_PRESSURE_DROP_SQL = f"""
SELECT {_RULE_COLUMNS}, s.id, s.zone_id, s.code,
       (m.baseline - m.recent) / m.baseline * 100.0,
       jsonb_build_object('recent_mean', m.recent, 'baseline_mean', m.baseline)
FROM pipeline_detectionrule r
JOIN pipeline_sensor s ON s.id = r.sensor_id AND {_ACTIVE_SENSOR}
CROSS JOIN LATERAL (
    SELECT avg({_CALIBRATED}) FILTER (
               WHERE x.recorded_at > %(now)s - make_interval(mins => r.window_minutes)
           ) AS recent,
           avg({_CALIBRATED}) FILTER (
               WHERE x.recorded_at <= %(now)s - make_interval(mins => r.window_minutes)
           ) AS baseline
    FROM pipeline_reading x
    WHERE x.sensor_id = s.id
      AND x.recorded_at > %(now)s - make_interval(mins => r.window_minutes * %(baseline_windows)s)
      AND x.recorded_at > %(earliest)s AND x.recorded_at <= %(now)s
) m
WHERE r.is_active AND r.kind = 'pressure_drop'
  AND m.baseline > 0 AND m.recent IS NOT NULL
  AND (m.baseline - m.recent) / m.baseline * 100.0 > r.threshold
"""  # noqa: S608 - constants only

# The zone's balance sensors (its own, not its sub-zones'): the mean flow (m3/h) of each
# over the window, summed by role; imbalance = inflow - outflow - consumption in percent
# of inflow.
_FLOW_IMBALANCE_SQL = f"""
WITH means AS (
    SELECT r.id AS rule_id, s.balance_role AS role, avg({_CALIBRATED}) AS mean
    FROM pipeline_detectionrule r
    JOIN pipeline_sensor s ON s.zone_id = r.zone_id AND {_ACTIVE_SENSOR} AND s.kind = 'flow'
         AND s.balance_role IN ('inflow', 'outflow', 'consumption')
    CROSS JOIN LATERAL ({_WINDOW_READINGS}) x
    WHERE r.is_active AND r.kind = 'flow_imbalance'
    GROUP BY r.id, s.id, s.balance_role
), totals AS (
    SELECT rule_id,
           coalesce(sum(mean) FILTER (WHERE role = 'inflow'), 0) AS inflow,
           coalesce(sum(mean) FILTER (WHERE role = 'outflow'), 0) AS outflow,
           coalesce(sum(mean) FILTER (WHERE role = 'consumption'), 0) AS consumption
    FROM means GROUP BY rule_id
)
SELECT {_RULE_COLUMNS}, NULL::uuid, z.id, z.code,
       (t.inflow - t.outflow - t.consumption) / t.inflow * 100.0,
       jsonb_build_object('inflow_m3h', t.inflow, 'outflow_m3h', t.outflow,
                          'consumption_m3h', t.consumption)
FROM totals t
JOIN pipeline_detectionrule r ON r.id = t.rule_id
JOIN pipeline_zone z ON z.id = r.zone_id
WHERE t.inflow > 0 AND (t.inflow - t.outflow - t.consumption) / t.inflow * 100.0 > r.threshold
"""  # noqa: S608 - constants only

# Hourly means (hours counted from the night's start, so half-hour time zones work) of
# inflow - outflow of the zone's own sensors during the last night; the smallest.
_NIGHT_FLOW_SQL = f"""
WITH hourly AS (
    SELECT r.id AS rule_id,
           floor(extract(epoch FROM x.recorded_at - %(night_start)s) / 3600) AS hour,
           s.balance_role AS role, avg({_CALIBRATED}) AS mean
    FROM pipeline_detectionrule r
    JOIN pipeline_sensor s ON s.zone_id = r.zone_id AND {_ACTIVE_SENSOR} AND s.kind = 'flow'
         AND s.balance_role IN ('inflow', 'outflow')
    CROSS JOIN LATERAL ({_NIGHT_READINGS}) x
    WHERE r.is_active AND r.kind = 'night_flow'
    GROUP BY r.id, hour, s.id, s.balance_role
), net AS (
    SELECT rule_id, hour, sum(CASE WHEN role = 'inflow' THEN mean ELSE -mean END) AS flow
    FROM hourly GROUP BY rule_id, hour
    HAVING bool_or(role = 'inflow')
), night AS (
    SELECT rule_id, min(flow) AS flow FROM net GROUP BY rule_id
)
SELECT {_RULE_COLUMNS}, NULL::uuid, z.id, z.code, n.flow,
       jsonb_build_object('night_start', %(night_start)s::timestamptz,
                          'night_end', %(night_end)s::timestamptz)
FROM night n
JOIN pipeline_detectionrule r ON r.id = n.rule_id
JOIN pipeline_zone z ON z.id = r.zone_id
WHERE n.flow > r.threshold
"""  # noqa: S608 - constants only

# One statement per kind (threshold_high and threshold_low share theirs).
_KIND_STATEMENTS = (
    _THRESHOLD_SQL,
    _RATE_SQL,
    _FLAT_LINE_SQL,
    _MISSING_SQL,
    _PRESSURE_DROP_SQL,
    _FLOW_IMBALANCE_SQL,
    _NIGHT_FLOW_SQL,
)
# The kinds the pass decides about; water_loss belongs to the water balance.
PASS_KINDS = sorted(RULE_KINDS)

_UPSERT_SQL = """
INSERT INTO pipeline_alarm (
    id, created_at, updated_at, kind, status, severity, sensor_id, zone_id, rule_id,
    message, value, details, first_detected_at, last_detected_at, detection_count
)
SELECT gen_random_uuid(), %(wall)s, %(wall)s, t.kind, 'active', t.severity, t.sensor_id,
       t.zone_id, t.rule_id, t.message, t.value, t.details::jsonb, %(now)s, %(now)s, 1
FROM unnest(%(kinds)s::text[], %(severities)s::text[], %(sensor_ids)s::uuid[],
            %(zone_ids)s::uuid[], %(rule_ids)s::uuid[], %(messages)s::text[],
            %(values)s::float8[], %(details)s::text[])
     AS t(kind, severity, sensor_id, zone_id, rule_id, message, value, details)
ON CONFLICT {target}
DO UPDATE SET last_detected_at = EXCLUDED.last_detected_at,
              value = EXCLUDED.value,
              severity = EXCLUDED.severity,
              message = EXCLUDED.message,
              details = EXCLUDED.details,
              rule_id = EXCLUDED.rule_id,
              updated_at = EXCLUDED.updated_at,
              detection_count = pipeline_alarm.detection_count + 1
RETURNING id, (xmax = 0) AS inserted, kind, severity, sensor_id, zone_id, value, message
"""
# The conflict targets name the partial unique indexes by their columns and predicates
# (Alarm.Meta.constraints).
_SENSOR_TARGET = "(sensor_id, kind) WHERE status = 'active' AND sensor_id IS NOT NULL"
_ZONE_TARGET = "(zone_id, kind) WHERE status = 'active' AND sensor_id IS NULL"

_CLEAR_SQL = """
UPDATE pipeline_alarm
SET status = 'cleared', cleared_at = %(now)s, updated_at = %(wall)s
WHERE status = 'active' AND kind = ANY(%(kinds)s::text[])
  AND (kind || ':' || COALESCE(sensor_id::text, 'zone:' || zone_id::text)) <> ALL(%(keep)s::text[])
  {only}
RETURNING id, kind, severity, sensor_id, zone_id, value, message
"""


def tenant_time_zone() -> tzinfo:
    """The current tenant's time zone (Tenant.time_zone; UTC when unknown). A request
    carries the tenant; a task only has the schema, so the catalogue is asked."""
    name = getattr(current_tenant(), "time_zone", None)
    if not name:
        from apps.tenants.models import Tenant

        schema_name = current_schema()
        with in_public():
            name = (
                Tenant.objects.filter(schema_name=schema_name)
                .values_list("time_zone", flat=True)
                .first()
            )
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("Unknown tenant time zone %r; using UTC", name)
        return UTC


def last_night(*, now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """02:00-04:00 local of the last night that is over at ``now``."""
    local = now.astimezone(tz)
    night_day = local.date() if local.time() >= NIGHT_TO else local.date() - timedelta(days=1)
    return _local(night_day, NIGHT_FROM, tz), _local(night_day, NIGHT_TO, tz)


def _local(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _message(hit: _Hit) -> str:
    value = "n/a" if hit.value is None else f"{hit.value:.3g}"
    limit = "" if hit.threshold is None else f"{hit.threshold:.3g}"
    text = {
        AlarmKind.THRESHOLD_HIGH: f"reading {value} above {limit}",
        AlarmKind.THRESHOLD_LOW: f"reading {value} below {limit}",
        AlarmKind.RATE_OF_CHANGE: f"changes by {value} per minute (limit {limit})",
        AlarmKind.FLAT_LINE: f"spread {value} under {limit} for {hit.window_minutes} min",
        AlarmKind.MISSING_DATA: f"no reading for {hit.window_minutes} min",
        AlarmKind.PRESSURE_DROP: f"pressure down {value}% against its baseline",
        AlarmKind.FLOW_IMBALANCE: f"inflow not accounted for: {value}% (limit {limit}%)",
        AlarmKind.NIGHT_FLOW: f"minimum night flow {value} m3/h (limit {limit})",
    }.get(hit.kind, hit.kind)
    return f"{hit.target_code}: {text}"[:300]


def _hits(*, now: datetime, night: tuple[datetime, datetime]) -> list[_Hit]:
    params = {
        "now": now,
        "earliest": now - timedelta(minutes=WINDOW_MAX * (PRESSURE_BASELINE_WINDOWS + 1)),
        "flat_min": FLAT_LINE_MIN_READINGS,
        "baseline_windows": PRESSURE_BASELINE_WINDOWS + 1,
        "night_start": night[0],
        "night_end": night[1],
    }
    found: list[_Hit] = []
    with connection.cursor() as cursor:
        for statement in _KIND_STATEMENTS:
            cursor.execute(statement, params)
            for row in cursor.fetchall():
                extra = row[10]
                found.append(
                    _Hit(
                        rule_id=row[0],
                        kind=row[1],
                        severity=row[2],
                        opens_incident=row[3],
                        threshold=row[4],
                        window_minutes=row[5],
                        sensor_id=row[6],
                        zone_id=row[7],
                        target_code=row[8],
                        value=None if row[9] is None else float(row[9]),
                        extra=extra if isinstance(extra, dict) else json.loads(extra or "{}"),
                    )
                )
    return found


def _strongest(hits: Iterable[_Hit]) -> list[_Hit]:
    """One hit per alarm key (two rules of one kind on one sensor make one alarm): the
    most severe, then the one further past its limit. Sorted by key, so concurrent
    passes lock alarm rows in the same order."""
    best: dict[str, _Hit] = {}
    for hit in hits:
        current = best.get(hit.key)
        rank = (SEVERITY_RANK.get(hit.severity, 0), abs(hit.value or 0.0))
        if current is None or rank > (
            SEVERITY_RANK.get(current.severity, 0),
            abs(current.value or 0.0),
        ):
            best[hit.key] = hit
    return [best[key] for key in sorted(best)]


@dataclass(frozen=True)
class AlarmChange:
    """An alarm row as a write left it (``inserted``: this write raised it)."""

    id: Any
    inserted: bool
    kind: str
    severity: str
    sensor_id: Any
    zone_id: Any
    value: float | None
    message: str


def alarms_upsert(*, rows: list[dict[str, Any]], now: datetime) -> list[AlarmChange]:
    """Raise or refresh one active alarm per row (keys: kind, severity, sensor_id,
    zone_id, rule_id, message, value, details), two statements at most. Returns each
    alarm with ``inserted`` true when this call raised it."""
    result: list[AlarmChange] = []
    wall = timezone.now()
    for target, chosen in (
        (_SENSOR_TARGET, [row for row in rows if row["sensor_id"] is not None]),
        (_ZONE_TARGET, [row for row in rows if row["sensor_id"] is None]),
    ):
        if not chosen:
            continue
        params = {
            "now": now,
            "wall": wall,
            "kinds": [row["kind"] for row in chosen],
            "severities": [row["severity"] for row in chosen],
            "sensor_ids": [row["sensor_id"] for row in chosen],
            "zone_ids": [row["zone_id"] for row in chosen],
            "rule_ids": [row["rule_id"] for row in chosen],
            "messages": [row["message"] for row in chosen],
            "values": [row["value"] for row in chosen],
            "details": [json.dumps(row["details"], cls=DjangoJSONEncoder) for row in chosen],
        }
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT_SQL.format(target=target), params)
            result.extend(AlarmChange(*row) for row in cursor.fetchall())
    return result


def alarms_clear_except(
    *, kinds: Iterable[str], keep: Iterable[str], now: datetime, zone_ids: Iterable | None = None
) -> list[AlarmChange]:
    """Clear active alarms of ``kinds`` whose key (``alarm_key``) is not in ``keep``;
    with ``zone_ids``, only those of these zones."""
    only = ""
    params: dict[str, Any] = {
        "now": now,
        "wall": timezone.now(),
        "kinds": list(kinds),
        "keep": list(keep),
    }
    if zone_ids is not None:
        only = "AND zone_id = ANY(%(zone_ids)s::uuid[])"
        params["zone_ids"] = list(zone_ids)
    with connection.cursor() as cursor:
        cursor.execute(_CLEAR_SQL.format(only=only), params)
        return [AlarmChange(row[0], False, *row[1:]) for row in cursor.fetchall()]


def _event_payload(alarm: AlarmChange | Alarm) -> dict[str, Any]:
    return {
        "alarm_id": str(alarm.id),
        "kind": alarm.kind,
        "severity": alarm.severity,
        "zone_id": str(alarm.zone_id),
        "sensor_id": str(alarm.sensor_id) if alarm.sensor_id else None,
        "value": alarm.value,
        "message": alarm.message,
    }


def alarm_events_publish(*, raised: Iterable[Any] = (), cleared: Iterable[Any] = ()) -> None:
    """``pipeline.alarm.raised`` / ``pipeline.alarm.cleared`` to the users who may see each
    alarm's zone, after commit; the audience is looked up once per zone."""
    from apps.realtime.publish import publish_event

    by_zone: dict[Any, list[tuple[str, Any]]] = defaultdict(list)
    for event_type, alarms in (
        ("pipeline.alarm.raised", raised),
        ("pipeline.alarm.cleared", cleared),
    ):
        for alarm in alarms:
            by_zone[alarm.zone_id].append((event_type, alarm))
    for zone_id, events in by_zone.items():
        audience = zone_audience_user_ids(zone_id=zone_id)
        if not audience:
            continue
        for event_type, alarm in events:
            publish_event(event_type=event_type, payload=_event_payload(alarm), user_ids=audience)


def _incidents_open(alarm_ids: list[Any]) -> list[str]:
    """Open (or join) an incident for each newly raised alarm. Each in its own savepoint:
    an alarm the incident side refuses stays raised, without an incident."""
    from apps.pipeline.services import incidents as incident_services

    opener = getattr(incident_services, "incident_open_from_alarm", None)
    if opener is None or not alarm_ids:
        return []
    opened = []
    for alarm in Alarm.objects.filter(pk__in=alarm_ids).select_related("zone", "sensor", "rule"):
        try:
            with transaction.atomic():
                incident = opener(alarm=alarm)
        except (ApplicationError, DatabaseError):
            logger.exception("Could not open an incident for alarm %s", alarm.pk)
            continue
        if incident is not None:
            opened.append(str(incident.pk))
    return opened


@transaction.atomic
def detection_run(*, now: datetime | None = None) -> DetectionSummary:
    """Evaluate every active rule of the tenant at ``now`` (default: the current time).

    Rules whose condition holds raise an alarm or refresh the active one of their sensor
    (or zone) and kind; active alarms of the pass's kinds whose condition no longer holds
    (or whose rule went) are cleared. A newly raised alarm of a rule with
    ``opens_incident``, or of a leak kind, opens an incident through
    ``incidents.incident_open_from_alarm`` (skipped while that does not exist). Raised
    and cleared alarms are published to the users who may see their zone. Safe to run
    concurrently: the alarm rows arbitrate.
    """
    now = now or timezone.now()
    night = last_night(now=now, tz=tenant_time_zone())
    summary = DetectionSummary(
        rules_evaluated=DetectionRule.objects.filter(is_active=True, kind__in=PASS_KINDS).count()
    )
    hits = _strongest(_hits(now=now, night=night))
    rows = [
        {
            "kind": hit.kind,
            "severity": hit.severity,
            "sensor_id": hit.sensor_id,
            "zone_id": hit.zone_id,
            "rule_id": hit.rule_id,
            "message": _message(hit),
            "value": hit.value,
            "details": {
                "rule_id": str(hit.rule_id),
                "threshold": hit.threshold,
                "window_minutes": hit.window_minutes,
                **hit.extra,
            },
        }
        for hit in hits
    ]
    written = alarms_upsert(rows=rows, now=now)
    cleared = alarms_clear_except(kinds=PASS_KINDS, keep=[hit.key for hit in hits], now=now)

    raised = [alarm for alarm in written if alarm.inserted]
    summary.raised = [str(alarm.id) for alarm in raised]
    summary.refreshed = [str(alarm.id) for alarm in written if not alarm.inserted]
    summary.cleared = [str(alarm.id) for alarm in cleared]
    opens = {hit.key for hit in hits if hit.opens_incident or hit.kind in LEAK_KINDS}
    summary.incidents_opened = _incidents_open(
        [
            alarm.id
            for alarm in raised
            if alarm_key(kind=alarm.kind, sensor_id=alarm.sensor_id, zone_id=alarm.zone_id) in opens
        ]
    )
    alarm_events_publish(raised=raised, cleared=cleared)
    return summary


# --- clearing by hand --------------------------------------------------------------------


@transaction.atomic
def alarm_clear(*, actor: Actor, alarm: Alarm) -> Alarm:
    """Clear an active alarm (AlarmNotActiveError otherwise). A condition that still
    holds raises a new alarm at the next pass."""
    require_perm(actor, "pipeline.approve_incident_handling")
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if alarm.status != Alarm.Status.ACTIVE:
        raise AlarmNotActiveError(alarm_id=str(alarm.pk))
    alarm.status = Alarm.Status.CLEARED
    alarm.cleared_at = timezone.now()
    alarm.updated_by = actor.user
    alarm.details = {**alarm.details, "cleared_by": str(actor.user.pk)}
    alarm.save(update_fields=["status", "cleared_at", "updated_by", "details", "updated_at"])
    alarm_events_publish(cleared=[alarm])
    return alarm


# --- water balance -----------------------------------------------------------------------

# Per zone and tenant-local day, from the zone's own active flow sensors with a balance
# role: each sensor's mean calibrated flow (m3/h) over the day times the day's hours (23
# or 25 on a daylight-saving change) is its volume. A gap in the readings is filled by
# the sensor's mean, and ``coverage`` (readings that arrived / readings expected at the
# sensors' intervals, at most 1) says how much the figures rest on.
_BALANCE_SQL = f"""
WITH sensors AS (
    SELECT s.id, s.zone_id, s.balance_role AS role, s.expected_interval_seconds,
           s.calibration_factor, s.calibration_offset
    FROM pipeline_sensor s
    WHERE s.deleted_at IS NULL AND s.is_active AND s.kind = 'flow'
      AND s.balance_role IN ('inflow', 'outflow', 'consumption')
), per_sensor AS (
    SELECT s.id, s.zone_id, s.role, s.expected_interval_seconds,
           count(x.recorded_at) AS arrived,
           avg(x.value * s.calibration_factor + s.calibration_offset) AS mean
    FROM sensors s
    LEFT JOIN LATERAL (
        SELECT x.recorded_at, x.value FROM pipeline_reading x
        WHERE x.sensor_id = s.id AND x.recorded_at >= %(start)s AND x.recorded_at < %(end)s
    ) x ON true
    GROUP BY s.id, s.zone_id, s.role, s.expected_interval_seconds
), hourly AS (
    SELECT s.zone_id, s.role,
           floor(extract(epoch FROM x.recorded_at - %(night_start)s) / 3600) AS hour,
           avg(x.value * s.calibration_factor + s.calibration_offset) AS mean
    FROM sensors s
    CROSS JOIN LATERAL ({_NIGHT_READINGS}) x
    WHERE s.role IN ('inflow', 'outflow')
    GROUP BY s.zone_id, s.id, s.role, hour
), night AS (
    SELECT zone_id, min(flow) AS min_flow FROM (
        SELECT zone_id, hour, sum(CASE WHEN role = 'inflow' THEN mean ELSE -mean END) AS flow
        FROM hourly GROUP BY zone_id, hour
        HAVING bool_or(role = 'inflow')
    ) net GROUP BY zone_id
)
SELECT p.zone_id,
       coalesce(sum(p.mean) FILTER (WHERE p.role = 'inflow'), 0) * %(hours)s,
       coalesce(sum(p.mean) FILTER (WHERE p.role = 'outflow'), 0) * %(hours)s,
       coalesce(sum(p.mean) FILTER (WHERE p.role = 'consumption'), 0) * %(hours)s,
       sum(p.arrived),
       sum(%(seconds)s / p.expected_interval_seconds),
       n.min_flow
FROM per_sensor p
LEFT JOIN night n ON n.zone_id = p.zone_id
GROUP BY p.zone_id, n.min_flow
"""  # noqa: S608 - constants only


def day_bounds(*, day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The instants (UTC) at which the local ``day`` starts and the next one starts."""
    return _local(day, time(0), tz), _local(day + timedelta(days=1), time(0), tz)


@transaction.atomic
def water_balance_compute(*, day: date) -> list[ZoneWaterBalance]:
    """Compute (or recompute: one row per zone and day, upserted) the water balance of
    every zone with balance sensors for the tenant-local ``day``: inflow, outflow and
    consumption volumes (m3), loss = inflow - outflow - consumption, loss_pct = loss /
    inflow * 100 (null without inflow), the day's minimum night flow (02:00-04:00 local,
    smallest hourly mean of inflow - outflow, m3/h) and coverage.

    A zone whose loss_pct exceeds its ``loss_alarm_pct`` (with coverage of at least
    WATER_LOSS_MIN_COVERAGE) raises or refreshes its ``water_loss`` alarm; the others'
    active water-loss alarms are cleared. A zone's alarm follows its latest balanced day:
    recomputing an older day (late readings, a backfill) leaves the alarm alone.
    """
    tz = tenant_time_zone()
    start, end = day_bounds(day=day, tz=tz)
    night_start, night_end = _local(day, NIGHT_FROM, tz), _local(day, NIGHT_TO, tz)
    seconds = (end - start).total_seconds()
    with connection.cursor() as cursor:
        cursor.execute(
            _BALANCE_SQL,
            {
                "start": start,
                "end": end,
                "night_start": night_start,
                "night_end": night_end,
                "hours": seconds / 3600.0,
                "seconds": seconds,
            },
        )
        figures = cursor.fetchall()
    computed_at = timezone.now()
    balances = []
    for zone_id, inflow, outflow, consumption, arrived, expected, min_night in figures:
        loss = inflow - outflow - consumption
        balances.append(
            ZoneWaterBalance(
                zone_id=zone_id,
                day=day,
                inflow_m3=inflow,
                outflow_m3=outflow,
                consumption_m3=consumption,
                loss_m3=loss,
                loss_pct=loss / inflow * 100.0 if inflow > 0 else None,
                min_night_flow_m3h=min_night,
                coverage=min(1.0, float(arrived) / float(expected)) if expected else 0.0,
                computed_at=computed_at,
            )
        )
    ZoneWaterBalance.objects.bulk_create(
        balances,
        update_conflicts=True,
        unique_fields=["zone", "day"],
        update_fields=[
            "inflow_m3",
            "outflow_m3",
            "consumption_m3",
            "loss_m3",
            "loss_pct",
            "min_night_flow_m3h",
            "coverage",
            "computed_at",
            "updated_at",
        ],
    )
    stored = list(
        ZoneWaterBalance.objects.filter(day=day, zone_id__in=[b.zone_id for b in balances])
        .select_related("zone")
        .order_by("zone__code")
    )
    _water_loss_alarms(stored, day=day, now=computed_at)
    return stored


def _water_loss_alarms(balances: list[ZoneWaterBalance], *, day: date, now: datetime) -> None:
    newer = set(
        ZoneWaterBalance.objects.filter(
            zone_id__in=[balance.zone_id for balance in balances], day__gt=day
        ).values_list("zone_id", flat=True)
    )
    balances = [balance for balance in balances if balance.zone_id not in newer]
    rows = []
    for balance in balances:
        limit = float(balance.zone.loss_alarm_pct)
        if (
            balance.loss_pct is not None
            and balance.loss_pct > limit
            and balance.coverage >= WATER_LOSS_MIN_COVERAGE
        ):
            rows.append(
                {
                    "kind": AlarmKind.WATER_LOSS.value,
                    "severity": "medium",
                    "sensor_id": None,
                    "zone_id": balance.zone_id,
                    "rule_id": None,
                    "message": (
                        f"{balance.zone.code}: {balance.loss_pct:.1f}% of the inflow lost"
                        f" on {day.isoformat()} (limit {limit:g}%)"
                    )[:300],
                    "value": balance.loss_pct,
                    "details": {
                        "day": day.isoformat(),
                        "loss_m3": balance.loss_m3,
                        "inflow_m3": balance.inflow_m3,
                        "limit_pct": limit,
                        "coverage": balance.coverage,
                    },
                }
            )
    written = alarms_upsert(rows=rows, now=now)
    cleared = alarms_clear_except(
        kinds=[AlarmKind.WATER_LOSS.value],
        keep=[alarm_key(kind=row["kind"], sensor_id=None, zone_id=row["zone_id"]) for row in rows],
        now=now,
        zone_ids=[balance.zone_id for balance in balances],
    )
    alarm_events_publish(raised=[alarm for alarm in written if alarm.inserted], cleared=cleared)
