"""Demo pipeline data for the waterworks demo tenant (``manage.py seed_pipeline_demo``) and
the simulated feed of readings (``manage.py pipeline_feed``).

The network is Nairobi's: a network zone ``NRB`` with six district metered areas (DMAs),
~300 assets (pipe segments, valves, pumps, meters, tanks), ~200 sensors wired to one
gateway device per DMA, twelve field teams based around the city, leak detection rules,
escalation policies and the people who work incidents: ``dispatcher`` (manager role,
granted the whole network zone), ``district_operator`` (staff, granted one DMA) and
crews ``crew1`` .. ``crew24`` (staff, two per team).

The feed is a set of pure functions of (sensor, instant): a diurnal demand curve,
deterministic noise, and a leak in one DMA from a given instant on (its pressures drop
30 %, its inflow rises 35 % while its consumption stays flat, its acoustic loggers get
louder). A sensor's ``reference_value`` is its normal value at mean demand, so the feed
needs nothing but the sensor rows.

Deterministic and idempotent: rows are keyed by code, name or username and only missing
ones are added. Readings are topped up: every sensor gets 5-minute readings from the start
of yesterday (the tenant's day) up to ``now``, after its latest reading, so a second run
at the same instant adds nothing and a run a day later fills the gap.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

DEMO_PASSWORD = "tenantry-demo"  # noqa: S105 - published demo credentials
NETWORK_CODE = "NRB"

# Sizes per DMA.
PIPE_SEGMENTS = 30
VALVES = 12
CONSUMPTION_METERS = 6
PRESSURE_SENSORS = 20  # on the first pipe segments; PT-01 is the DMA's key sensor
ACOUSTIC_LOGGERS = 6  # on the first valves
CREWS_PER_TEAM = 2

# Water lost by a healthy DMA (background leakage), as a share of its inflow: below the
# flow-imbalance threshold and the zone's loss alarm.
BACKGROUND_LOSS = 0.08
# The leak's signature.
LEAK_PRESSURE_FACTOR = 0.70
LEAK_INFLOW_FACTOR = 1.35
LEAK_ACOUSTIC_FACTOR = 2.0
# How the readings of the backfill are spaced.
BACKFILL_STEP = timedelta(minutes=5)
# The leak the feed starts when not told which DMA.
DEFAULT_LEAK_ZONE = "NRB-KIL"

# Valid (physically possible) ranges and units by sensor kind.
RANGES = {
    "flow": ("m3/h", 0.0, 2000.0),
    "pressure": ("bar", 0.0, 16.0),
    "level": ("m", 0.0, 10.0),
    "acoustic": ("dB", 0.0, 120.0),
}


@dataclass(frozen=True)
class Dma:
    code: str
    name: str
    latitude: float
    longitude: float
    consumption_m3h: float  # metered consumption at mean demand
    outflow_m3h: float  # transferred on to a neighbouring area (0: none)
    has_tank: bool
    has_pump: bool


DMAS = [
    Dma("NRB-CBD", "Central Business District", -1.2864, 36.8219, 600, 120, True, False),
    Dma("NRB-WST", "Westlands", -1.2654, 36.8040, 520, 90, True, True),
    Dma("NRB-KIL", "Kilimani", -1.2900, 36.7845, 460, 0, False, False),
    Dma("NRB-EST", "Eastleigh", -1.2750, 36.8500, 580, 0, True, True),
    Dma("NRB-SBR", "South B", -1.3090, 36.8350, 380, 0, False, False),
    Dma("NRB-LNG", "Lang'ata", -1.3380, 36.7680, 300, 0, True, True),
]

# code, name, skills, base latitude, base longitude.
TEAMS = [
    ("T01", "Kilimani leak crew", ["leak_repair", "valve"], -1.2925, 36.7905),
    ("T02", "Westlands leak crew", ["leak_repair", "valve"], -1.2620, 36.8025),
    ("T03", "CBD leak crew", ["leak_repair"], -1.2841, 36.8250),
    ("T04", "Eastleigh leak crew", ["leak_repair", "valve"], -1.2735, 36.8560),
    ("T05", "South B leak crew", ["leak_repair"], -1.3120, 36.8380),
    ("T06", "Lang'ata leak crew", ["leak_repair", "valve"], -1.3420, 36.7640),
    ("T07", "Industrial Area valve crew", ["valve"], -1.3030, 36.8520),
    ("T08", "Kasarani pump crew", ["pump", "electrical"], -1.2210, 36.8980),
    ("T09", "Gigiri pump crew", ["pump", "electrical"], -1.2330, 36.8050),
    ("T10", "Karen mains crew", ["leak_repair", "valve"], -1.3190, 36.7100),
    ("T11", "Embakasi electrical crew", ["electrical"], -1.3230, 36.8950),
    ("T12", "Kawangware mains crew", ["leak_repair", "pump"], -1.2820, 36.7480),
]

# The people of the demo (password DEMO_PASSWORD): username -> (role slug, granted zones).
DISPATCHER = "dispatcher"
DISTRICT_OPERATOR = "district_operator"
DISTRICT_OPERATOR_ZONE = "NRB-KIL"

PIPE_MATERIALS = ["uPVC", "HDPE", "ductile iron", "steel", "asbestos cement"]
PIPE_DIAMETERS_MM = [100, 150, 200, 250, 300, 450]
VALVE_TYPES = ["gate", "butterfly", "pressure reducing", "air release"]
METER_TYPES = ["electromagnetic", "ultrasonic", "woltmann"]

# Escalation: severity -> levels of (delay after the previous level, who).
ESCALATION = {
    "critical": [(2, "dispatcher"), (5, "tenant_admin")],
    "high": [(2, "dispatcher"), (5, "tenant_admin")],
    "medium": [(10, "dispatcher")],
}


@dataclass(frozen=True)
class PipelineDemoResult:
    created: int
    assets: int
    sensors: int
    readings: int


# --- The simulated feed (pure functions) -------------------------------------------------------


@dataclass(frozen=True)
class FeedSensor:
    """What the feed needs to know of a sensor."""

    code: str
    kind: str
    balance_role: str
    zone_code: str
    reference_value: float
    valid_min: float = 0.0
    valid_max: float = 2000.0
    calibration_factor: float = 1.0
    calibration_offset: float = 0.0


@dataclass(frozen=True)
class Leak:
    zone_code: str
    starts_at: datetime

    def active(self, *, zone_code: str, at: datetime) -> bool:
        return zone_code == self.zone_code and at >= self.starts_at


def _gauss(x: float, centre: float, width: float) -> float:
    return math.exp(-((x - centre) ** 2) / (2 * width**2))


def _demand_shape(local_hour: float) -> float:
    return (
        0.42
        + 0.95 * _gauss(local_hour, 7, 1.6)
        + 0.45 * _gauss(local_hour, 13, 3.0)
        + 0.75 * _gauss(local_hour, 19.5, 2.0)
    )


_DEMAND_MEAN = sum(_demand_shape(minute / 60) for minute in range(24 * 60)) / (24 * 60)


def demand_factor(local_hour: float) -> float:
    """Demand as a multiple of the day's mean at ``local_hour`` (0-24): low at night
    (~0.5 at 03:00), a morning peak at 07:00 (~1.65), a midday plateau and an evening
    peak at 19:30; its mean over a day is 1."""
    return _demand_shape(local_hour) / _DEMAND_MEAN


def _noise(code: str, at: datetime) -> float:
    """Deterministic noise in [-1, 1] for one sensor at one instant."""
    digest = hashlib.sha256(f"{code}@{at.timestamp():.3f}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 0xFFFFFFFF * 2 - 1


def _local_hour(at: datetime, time_zone: str) -> float:
    local = at.astimezone(ZoneInfo(time_zone))
    return local.hour + local.minute / 60 + local.second / 3600


def true_value(
    sensor: FeedSensor, at: datetime, *, time_zone: str, leak: Leak | None = None
) -> float:
    """What ``sensor`` measures at ``at`` (after calibration)."""
    demand = demand_factor(_local_hour(at, time_zone))
    leaking = leak is not None and leak.active(zone_code=sensor.zone_code, at=at)
    noise = _noise(sensor.code, at)
    reference = sensor.reference_value
    if sensor.kind == "flow":
        value = reference * demand * (1 + 0.02 * noise)
        if leaking and sensor.balance_role == "inflow":
            value *= LEAK_INFLOW_FACTOR
        return value
    if sensor.kind == "pressure":
        # Pressure sags when demand is high (head loss grows with flow).
        value = reference * (1 - 0.08 * (demand - 1)) * (1 + 0.015 * noise)
        return value * LEAK_PRESSURE_FACTOR if leaking else value
    if sensor.kind == "level":
        # Tanks fill overnight and draw down through the day.
        hour = _local_hour(at, time_zone)
        return reference + 1.5 * math.cos(2 * math.pi * (hour - 5) / 24) + 0.02 * noise
    if sensor.kind == "acoustic":
        value = reference + 3 * noise
        return value * LEAK_ACOUSTIC_FACTOR if leaking else value
    return reference * (1 + 0.01 * noise)


def raw_value(
    sensor: FeedSensor, at: datetime, *, time_zone: str, leak: Leak | None = None
) -> float:
    """What the device sends: the true value through the inverse of the sensor's
    calibration (true = raw * factor + offset), kept inside the valid range."""
    raw = (
        true_value(sensor, at, time_zone=time_zone, leak=leak) - sensor.calibration_offset
    ) / sensor.calibration_factor
    return round(min(max(raw, sensor.valid_min), sensor.valid_max), 3)


def feed_readings(
    sensors: Iterable[FeedSensor], at: datetime, *, time_zone: str, leak: Leak | None = None
) -> list[dict]:
    """One batch's readings (the ingest API's shape) for ``sensors`` at ``at``."""
    stamp = at.isoformat()
    return [
        {
            "sensor": sensor.code,
            "at": stamp,
            "value": raw_value(sensor, at, time_zone=time_zone, leak=leak),
        }
        for sensor in sensors
    ]


def feed_batch(
    device_code: str,
    sensors: Iterable[FeedSensor],
    at: datetime,
    *,
    time_zone: str,
    leak: Leak | None = None,
) -> dict:
    """One device's batch at ``at``. The batch id is the device and the second: a batch
    posted again (after a timeout) is answered as a replay, not stored twice."""
    return {
        "batch_id": f"feed-{device_code}-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "readings": feed_readings(sensors, at, time_zone=time_zone, leak=leak),
    }


def feed_sensors_by_device() -> dict[str, list[FeedSensor]]:
    """The active sensors wired to each device (by device code), in the current schema."""
    from apps.pipeline.models import Sensor

    grouped: dict[str, list[FeedSensor]] = {}
    sensors = (
        Sensor.objects.filter(is_active=True, device__isnull=False, reference_value__isnull=False)
        .select_related("zone", "device")
        .order_by("code")
    )
    for sensor in sensors:
        grouped.setdefault(sensor.device.code, []).append(_feed_sensor(sensor))
    return grouped


def _feed_sensor(sensor) -> FeedSensor:
    return FeedSensor(
        code=sensor.code,
        kind=sensor.kind,
        balance_role=sensor.balance_role,
        zone_code=sensor.zone.code,
        reference_value=sensor.reference_value,
        valid_min=sensor.valid_min,
        valid_max=sensor.valid_max,
        calibration_factor=sensor.calibration_factor,
        calibration_offset=sensor.calibration_offset,
    )


def leak_zone_choose(candidates: Iterable[str], requested: str | None = None) -> str | None:
    """The zone the feed's leak goes to, among ``candidates`` (zones with fed sensors):
    ``requested``; else the default DMA, the other demo DMAs, then any candidate, the
    first without an open incident (a leak left open by an earlier run would only update
    that incident's alarms); else the first of them. None without candidates."""
    from apps.pipeline.models import Incident

    if requested:
        return requested
    candidates = set(candidates)
    order = [DEFAULT_LEAK_ZONE] + [dma.code for dma in DMAS] + sorted(candidates)
    order = [code for code in dict.fromkeys(order) if code in candidates]
    closed = {Incident.Status.RESOLVED, Incident.Status.CLOSED}
    busy = set(Incident.objects.exclude(status__in=closed).values_list("zone__code", flat=True))
    return next((code for code in order if code not in busy), order[0] if order else None)


# --- The network -------------------------------------------------------------------------------


def _rng(*parts: object) -> random.Random:
    seed = int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")
    return random.Random(seed)  # noqa: S311 - demo data, not secrets


def _near(rng: random.Random, latitude: float, longitude: float, km: float) -> tuple[float, float]:
    """A point within ``km`` of (latitude, longitude)."""
    distance = km * math.sqrt(rng.random()) / 111.0
    angle = rng.random() * 2 * math.pi
    return round(latitude + distance * math.cos(angle), 6), round(
        longitude + distance * math.sin(angle), 6
    )


def _installed_on(rng: random.Random) -> date:
    return date(1985, 1, 1) + timedelta(days=rng.randrange(0, 38 * 365))


def _asset_rows(dma: Dma) -> list[dict]:
    """The assets of one DMA, as field dicts (without the zone)."""
    rng = _rng("assets", dma.code)
    rows = []

    def add(code: str, name: str, kind: str, km: float, **attributes: object) -> None:
        latitude, longitude = _near(rng, dma.latitude, dma.longitude, km)
        rows.append(
            {
                "code": f"{dma.code}-{code}",
                "name": f"{dma.name} {name}",
                "kind": kind,
                "latitude": latitude,
                "longitude": longitude,
                "installed_on": _installed_on(rng),
                "attributes": attributes,
            }
        )

    add("M-IN", "inlet meter chamber", "meter", 0.3, meter_type="electromagnetic", diameter_mm=450)
    if dma.outflow_m3h:
        add("M-OUT", "transfer meter", "meter", 1.2, meter_type="electromagnetic", diameter_mm=300)
    for index in range(1, CONSUMPTION_METERS + 1):
        add(
            f"M-C{index:02d}",
            f"bulk customer meter {index}",
            "meter",
            1.4,
            meter_type=rng.choice(METER_TYPES),
            diameter_mm=rng.choice([50, 80, 100, 150]),
        )
    if dma.has_tank:
        add("T01", "service reservoir", "tank", 0.8, capacity_m3=rng.choice([1500, 2500, 5000]))
    if dma.has_pump:
        add("PS01", "booster pump station", "pump", 0.6, rating_kw=rng.choice([55, 75, 110]))
    for index in range(1, PIPE_SEGMENTS + 1):
        add(
            f"P{index:03d}",
            f"main segment {index}",
            "pipe_segment",
            0.4 + 1.2 * index / PIPE_SEGMENTS,
            material=rng.choice(PIPE_MATERIALS),
            diameter_mm=rng.choice(PIPE_DIAMETERS_MM),
            length_m=rng.randrange(80, 650, 10),
        )
    for index in range(1, VALVES + 1):
        add(
            f"V{index:02d}",
            f"{rng.choice(VALVE_TYPES)} valve {index}",
            "valve",
            1.5,
            diameter_mm=rng.choice(PIPE_DIAMETERS_MM),
        )
    return rows


def _sensor_rows(dma: Dma) -> list[dict]:
    """The sensors of one DMA, as field dicts with ``asset_code`` (without zone, device)."""
    rng = _rng("sensors", dma.code)
    rows = []

    def add(code: str, asset: str, kind: str, reference: float, role: str = "none") -> None:
        unit, valid_min, valid_max = RANGES[kind]
        calibrated = kind in {"flow", "pressure"}
        rows.append(
            {
                "code": f"{dma.code}-{code}",
                "asset_code": f"{dma.code}-{asset}",
                "kind": kind,
                "unit": unit,
                "valid_min": valid_min,
                "valid_max": valid_max,
                "calibration_factor": round(1 + rng.uniform(-0.015, 0.015), 4)
                if kind == "flow"
                else 1.0,
                "calibration_offset": round(rng.uniform(-0.03, 0.03), 3)
                if kind == "pressure"
                else 0.0,
                "calibrated_on": date(2025, 1, 1) + timedelta(days=rng.randrange(0, 540))
                if calibrated
                else None,
                "reference_value": round(reference, 3),
                "expected_interval_seconds": 300,
                "balance_role": role,
            }
        )

    inflow = (dma.consumption_m3h + dma.outflow_m3h) / (1 - BACKGROUND_LOSS)
    add("FIT-IN", "M-IN", "flow", inflow, "inflow")
    if dma.outflow_m3h:
        add("FIT-OUT", "M-OUT", "flow", dma.outflow_m3h, "outflow")
    weights = [rng.uniform(0.5, 1.5) for _ in range(CONSUMPTION_METERS)]
    for index, weight in enumerate(weights, start=1):
        share = dma.consumption_m3h * weight / sum(weights)
        add(f"FIT-C{index:02d}", f"M-C{index:02d}", "flow", share, "consumption")
    for index in range(1, PRESSURE_SENSORS + 1):
        # Further from the inlet, lower (and higher ground): 4.8 bar down to ~3 bar.
        reference = 4.8 - 1.6 * (index - 1) / PRESSURE_SENSORS + rng.uniform(-0.2, 0.2)
        add(f"PT-{index:02d}", f"P{index:03d}", "pressure", reference)
    if dma.has_pump:
        add("PT-PS", "PS01", "pressure", 6.5 + rng.uniform(-0.3, 0.3))
    if dma.has_tank:
        add("LT-01", "T01", "level", 6.0 + rng.uniform(-0.5, 0.5))
    for index in range(1, ACOUSTIC_LOGGERS + 1):
        add(f"AE-{index:02d}", f"V{index:02d}", "acoustic", 24 + rng.uniform(-4, 4))
    return rows


def _seed_network() -> int:
    from apps.pipeline.models import Asset, Device, Sensor, Zone

    created = 0
    network, is_new = Zone.objects.get_or_create(
        code=NETWORK_CODE,
        defaults={"name": "Nairobi water network", "kind": Zone.Kind.NETWORK},
    )
    created += is_new
    zones = {}
    for dma in DMAS:
        zones[dma.code], is_new = Zone.objects.get_or_create(
            code=dma.code,
            defaults={"name": dma.name, "kind": Zone.Kind.DISTRICT, "parent": network},
        )
        created += is_new

    asset_rows = [(dma, row) for dma in DMAS for row in _asset_rows(dma)]
    existing = set(Asset.all_objects.values_list("code", flat=True))
    new_assets = [
        Asset(zone=zones[dma.code], **row) for dma, row in asset_rows if row["code"] not in existing
    ]
    Asset.all_objects.bulk_create(new_assets, batch_size=500)
    created += len(new_assets)
    assets = {asset.code: asset for asset in Asset.all_objects.all()}

    devices = {}
    for dma in DMAS:
        devices[dma.code], is_new = Device.all_objects.get_or_create(
            code=f"GW-{dma.code}",
            defaults={"name": f"{dma.name} gateway", "asset": assets[f"{dma.code}-M-IN"]},
        )
        created += is_new

    existing = set(Sensor.all_objects.values_list("code", flat=True))
    new_sensors = []
    for dma in DMAS:
        for row in _sensor_rows(dma):
            if row["code"] in existing:
                continue
            asset = assets[row.pop("asset_code")]
            # The sensor's zone is its asset's.
            new_sensors.append(
                Sensor(asset=asset, zone_id=asset.zone_id, device=devices[dma.code], **row)
            )
    Sensor.all_objects.bulk_create(new_sensors, batch_size=500)
    return created + len(new_sensors)


def _seed_teams_and_people() -> int:
    from apps.accounts.models import Role, User
    from apps.accounts.services import scope_grant
    from apps.pipeline.models import FieldTeam, TeamMember, Zone
    from apps.pipeline.selectors.network import ZONE_SCOPE

    created = 0
    teams = []
    for code, name, skills, latitude, longitude in TEAMS:
        team, is_new = FieldTeam.all_objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "skills": skills,
                "base_latitude": latitude,
                "base_longitude": longitude,
            },
        )
        teams.append(team)
        created += is_new

    network = Zone.objects.get(code=NETWORK_CODE)

    def user(username: str, role_slug: str, **names: str) -> User:
        nonlocal created
        row, is_new = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@waterworks.example.test", **names},
        )
        if is_new:
            row.set_password(DEMO_PASSWORD)
            row.save(update_fields=["password"])
            row.roles.set(Role.objects.filter(slug=role_slug))
            created += 1
        return row

    # The dispatcher works every incident in the network: the manager role (approves
    # handling and dispatch) and a grant of the network zone, which covers every DMA
    # under it. Not access_all_zones: that stays with tenant admins.
    dispatcher = user(DISPATCHER, "manager", first_name="Wanjiru", last_name="Kamau")
    scope_grant(actor=None, user=dispatcher, scope_type=ZONE_SCOPE, scope_value=str(network.pk))
    operator = user(DISTRICT_OPERATOR, "staff", first_name="Otieno", last_name="Odhiambo")
    district = Zone.objects.get(code=DISTRICT_OPERATOR_ZONE)
    scope_grant(actor=None, user=operator, scope_type=ZONE_SCOPE, scope_value=str(district.pk))

    number = 0
    for team in teams:
        for seat in range(CREWS_PER_TEAM):
            number += 1
            crew = user(f"crew{number}", "staff", first_name="Crew", last_name=str(number))
            # Crews go wherever they are sent: they see the whole network's incidents.
            scope_grant(actor=None, user=crew, scope_type=ZONE_SCOPE, scope_value=str(network.pk))
            _, is_new = TeamMember.objects.get_or_create(
                team=team,
                user=crew,
                defaults={"role": TeamMember.Role.LEAD if seat == 0 else TeamMember.Role.MEMBER},
            )
            created += is_new
    return created


def night_flow_limit(dma: Dma) -> float:
    """A DMA's minimum night flow limit (m3/h): a quarter above its healthy night flow
    (inflow - outflow at the night's lowest demand)."""
    inflow = (dma.consumption_m3h + dma.outflow_m3h) / (1 - BACKGROUND_LOSS)
    lowest = min(demand_factor(2 + minute / 60) for minute in range(120))
    return round((inflow - dma.outflow_m3h) * lowest * 1.25, 1)


def _rule_specs() -> list[dict]:
    from apps.pipeline.models import Sensor, Zone

    sensors = dict(Sensor.all_objects.values_list("code", "pk"))
    zones = dict(Zone.objects.values_list("code", "pk"))
    rules = []
    for dma in DMAS:
        rules += [
            {
                "name": f"{dma.code} pressure drop (leak)",
                "kind": "pressure_drop",
                "sensor": sensors[f"{dma.code}-PT-01"],
                "threshold": 15,
                "window_minutes": 5,
                "severity": "high",
                "required_skill": "leak_repair",
            },
            {
                "name": f"{dma.code} flow imbalance (leak)",
                "kind": "flow_imbalance",
                "zone": zones[dma.code],
                "threshold": 25,
                "window_minutes": 10,
                "severity": "high",
                "required_skill": "leak_repair",
            },
            {
                "name": f"{dma.code} night flow",
                "kind": "night_flow",
                "zone": zones[dma.code],
                "threshold": night_flow_limit(dma),
                "window_minutes": 60,
                "severity": "medium",
                "required_skill": "leak_repair",
            },
            {
                "name": f"{dma.code} inlet meter silent",
                "kind": "missing_data",
                "sensor": sensors[f"{dma.code}-FIT-IN"],
                "window_minutes": 15,
                "severity": "low",
            },
        ]
        if dma.has_tank:
            rules.append(
                {
                    "name": f"{dma.code} reservoir low",
                    "kind": "threshold_low",
                    "sensor": sensors[f"{dma.code}-LT-01"],
                    "threshold": 1.5,
                    "window_minutes": 5,
                    "severity": "medium",
                }
            )
        if dma.has_pump:
            rules.append(
                {
                    "name": f"{dma.code} pump discharge overpressure",
                    "kind": "threshold_high",
                    "sensor": sensors[f"{dma.code}-PT-PS"],
                    "threshold": 10,
                    "window_minutes": 5,
                    "severity": "high",
                    "opens_incident": True,
                    "required_skill": "pump",
                }
            )
    return rules


def _seed_rules(admin) -> int:
    """Leak rules on every DMA, and a few on its instruments. Water loss needs no rule:
    it follows the zone's loss_alarm_pct."""
    from apps.pipeline.models import DetectionRule
    from apps.pipeline.services import detection as detection_services

    existing = set(DetectionRule.objects.values_list("name", flat=True))
    created = 0
    for spec in _rule_specs():
        if spec["name"] in existing:
            continue
        detection_services.detection_rule_create(actor=admin, data=spec)
        created += 1
    return created


def _seed_escalation(admin) -> int:
    from apps.accounts.models import User
    from apps.pipeline.models import EscalationPolicy
    from apps.pipeline.services import incidents as incident_services

    created = 0
    dispatcher = User.objects.get(username=DISPATCHER)
    for severity, steps in ESCALATION.items():
        name = f"{severity.capitalize()} incidents"
        if EscalationPolicy.objects.filter(name=name).exists():
            continue
        if EscalationPolicy.objects.filter(severity=severity, is_active=True).exists():
            continue  # the tenant chose its own policy for this severity
        levels = [
            {
                "level": number,
                "delay_minutes": delay,
                "user_ids": [str(dispatcher.pk)] if who == DISPATCHER else [],
                "role_slugs": [who] if who != DISPATCHER else [],
            }
            for number, (delay, who) in enumerate(steps, start=1)
        ]
        incident_services.escalation_policy_create(
            actor=admin,
            data={
                "name": name,
                "severity": severity,
                "is_active": True,
                "then_policy": None,
                "levels": levels,
            },
        )
        created += 1
    return created


# --- History -----------------------------------------------------------------------------------


def backfill_start(now: datetime, *, time_zone: str) -> datetime:
    """The start of yesterday in the tenant's time zone: a whole day for the water
    balance, and the last hours for charts and the detection baselines."""
    local_today = now.astimezone(ZoneInfo(time_zone)).date()
    return datetime.combine(local_today - timedelta(days=1), time(), tzinfo=ZoneInfo(time_zone))


def backfill_instants(*, after: datetime | None, start: datetime, now: datetime) -> list[datetime]:
    """5-minute marks (UTC) from ``start`` (or the first one after ``after``) up to ``now``."""
    step = int(BACKFILL_STEP.total_seconds())
    first = start if after is None or after < start else after + timedelta(seconds=1)
    first_mark = math.ceil(first.timestamp() / step) * step
    marks = range(first_mark, int(now.timestamp()) + 1, step)
    return [datetime.fromtimestamp(mark, tz=UTC) for mark in marks]


def _partitions_ensure(start: datetime, now: datetime) -> None:
    from apps.pipeline.services.ingestion import reading_partitions_ensure

    # The backfill spans two days: at most two months.
    reading_partitions_ensure(months=[start, now])


def _backfill(*, now: datetime, time_zone: str) -> int:
    from apps.pipeline.models import Sensor

    start = backfill_start(now, time_zone=time_zone)
    _partitions_ensure(start, now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sensor_id, max(recorded_at) FROM pipeline_reading GROUP BY 1")
        latest = dict(cursor.fetchall())
    sensors = Sensor.all_objects.filter(reference_value__isnull=False).select_related("zone")
    return readings_copy(
        (sensor.pk, at, raw_value(spec, at, time_zone=time_zone))
        for sensor in sensors
        for spec in [_feed_sensor(sensor)]
        for at in backfill_instants(after=latest.get(sensor.pk), start=start, now=now)
    )


def readings_copy(rows: Iterable[tuple]) -> int:
    """Write (sensor id, instant, raw value) rows into the readings table with one COPY
    (the partitions must exist); returns how many."""
    buffer = io.StringIO()
    count = 0
    for sensor_id, at, value in rows:
        buffer.write(f"{sensor_id}\t{at.isoformat()}\t{value}\n")
        count += 1
    if count:
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                "COPY pipeline_reading (sensor_id, recorded_at, value) FROM STDIN"
            ) as copy,
        ):
            copy.write(buffer.getvalue())
    return count


def _water_balance(*, now: datetime, time_zone: str) -> None:
    """Yesterday's balance of every DMA (computed once; the hourly task keeps it fresh)."""
    from apps.pipeline.models import ZoneWaterBalance
    from apps.pipeline.services.detection import water_balance_compute

    yesterday = now.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=1)
    if ZoneWaterBalance.objects.filter(day=yesterday).exists():
        return
    water_balance_compute(day=yesterday)


# --- Entry point -------------------------------------------------------------------------------


def pipeline_demo_seed(*, schema_name: str, now: datetime | None = None) -> PipelineDemoResult:
    from apps.accounts.models import User
    from apps.accounts.selectors import actor_for_user
    from apps.core.tenancy import in_tenant
    from apps.pipeline.models import Asset, Sensor
    from apps.tenants.models import Tenant

    now = now or timezone.now()
    time_zone = Tenant.objects.get(schema_name=schema_name).time_zone
    with in_tenant(schema_name), transaction.atomic():
        admin_user = (
            User.objects.filter(roles__slug="tenant_admin", is_active=True)
            .order_by("date_joined")
            .first()
        )
        if admin_user is None:
            raise ValueError(f"{schema_name} has no active tenant admin to seed the demo as.")
        admin = actor_for_user(user=admin_user)
        created = _seed_network()
        created += _seed_teams_and_people()
        created += _seed_rules(admin)
        created += _seed_escalation(admin)
        readings = _backfill(now=now, time_zone=time_zone)
        _water_balance(now=now, time_zone=time_zone)
        return PipelineDemoResult(
            created=created,
            assets=Asset.all_objects.count(),
            sensors=Sensor.all_objects.count(),
            readings=readings,
        )
