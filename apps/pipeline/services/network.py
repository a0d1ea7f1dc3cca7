"""Writes of the network: zones, assets, devices, sensors and field teams.

Every service checks the actor's model permission (403) and the zone scope: an object in
a zone the actor cannot see is not found (404), and naming such a zone, asset or device
in a write is the same field error as naming one that does not exist (400), so a write
never confirms what the actor may not see. Invalid input raises Django's ValidationError
with field names (400); broken invariants raise apps.pipeline.errors (409): a zone under
its own sub-zone (``pipeline.zone_cycle``), a record still referred to
(``pipeline.in_use``), a code another record has (``pipeline.code_taken``; codes of
deleted records stay taken, so history never points at two things).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg.errors
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.pipeline.errors import CodeTakenError, InUseError, ZoneCycleError
from apps.pipeline.models import (
    Asset,
    Device,
    DispatchOffer,
    FieldTeam,
    Incident,
    Sensor,
    TeamMember,
    Zone,
)
from apps.pipeline.selectors import network as selectors

# Transaction-level advisory lock on the zone tree: two concurrent moves (A under B, B
# under A) cannot each pass the cycle check and together form a cycle.
_ZONE_TREE_LOCK = 7_302_001

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
SKILL_PATTERN = re.compile(r"^\w[\w .\-]*$")
SKILL_MAX_LENGTH = 32
SKILLS_MAX = 50


# --- shared helpers ------------------------------------------------------------------------


def _audit_fields(instance: Any, actor: Actor, *, created: bool) -> None:
    if created:
        instance.created_by = actor.user
    instance.updated_by = actor.user


def _lock_zone_tree() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ZONE_TREE_LOCK])


def _code_check(model: type, code: Any, errors: dict[str, list[str]]) -> None:
    max_length = model._meta.get_field("code").max_length
    if not isinstance(code, str) or not CODE_PATTERN.match(code) or len(code) > max_length:
        errors["code"] = [
            f"Up to {max_length} letters, digits, '.', '_' or '-', starting with a letter or digit."
        ]


def _save(instance: Any, *, model: type) -> None:
    """Save in a savepoint; a unique violation on the code (also one that raced past the
    pre-check) becomes CodeTakenError."""
    manager = getattr(model, "all_objects", model.objects)
    if manager.filter(code=instance.code).exclude(pk=instance.pk).exists():
        raise CodeTakenError(code=instance.code)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        if isinstance(error.__cause__, psycopg.errors.UniqueViolation):
            raise CodeTakenError(code=instance.code) from error
        raise


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _position_check(
    latitude: Any, longitude: Any, errors: dict[str, list[str]], *, prefix: str = ""
) -> None:
    if not _finite(latitude) or not -90 <= latitude <= 90:
        errors[f"{prefix}latitude"] = ["A number from -90 to 90."]
    if not _finite(longitude) or not -180 <= longitude <= 180:
        errors[f"{prefix}longitude"] = ["A number from -180 to 180."]


def _locked(model: type, pk: Any, *, key_change: bool = False) -> Any:
    """The live row ``pk`` of ``model``, locked until the transaction ends (FOR UPDATE
    when ``key_change``, e.g. before a delete, else FOR NO KEY UPDATE); None when it went
    away, or was soft-deleted, while this transaction waited for the lock."""
    return model.objects.select_for_update(no_key=not key_change).filter(pk=pk).first()


def _locked_or_404(model: type, pk: Any, *, key_change: bool = False) -> Any:
    row = _locked(model, pk, key_change=key_change)
    if row is None:
        raise NotFoundError()
    return row


def _require_visible(actor: Actor, zone_id: Any) -> None:
    """Objects of zones the actor cannot see do not exist for them."""
    if not selectors.zone_visible_to(actor=actor, zone_id=zone_id):
        raise NotFoundError()


def _apply(instance: Any, data: Mapping[str, Any], names: Iterable[str]) -> None:
    for name in names:
        if name in data:
            setattr(instance, name, data[name])


# --- zones ---------------------------------------------------------------------------------

ZONE_FIELDS = ("code", "name", "kind", "loss_alarm_pct")


def _zone_parent_resolve(
    *, actor: Actor, parent_id: Any, errors: dict[str, list[str]]
) -> Zone | None:
    """The parent the actor names, locked against a concurrent delete. A top-level zone
    (no parent) lies outside every grant, so only access_all_zones may make one."""
    if parent_id is None:
        require_perm(actor, selectors.ALL_ZONES_PERMISSION)
        return None
    parent = selectors.zone_visible_or_none(actor=actor, zone_id=parent_id)
    if parent is None:
        errors["parent"] = ["Unknown zone."]
        return None
    parent = _locked(Zone, parent.pk)
    if parent is None:
        errors["parent"] = ["Unknown zone."]
    return parent


def _zone_check(zone: Zone, errors: dict[str, list[str]]) -> None:
    _code_check(Zone, zone.code, errors)
    if not zone.name or not str(zone.name).strip():
        errors["name"] = ["Required."]
    if zone.kind not in Zone.Kind.values:
        errors["kind"] = [f"One of {', '.join(Zone.Kind.values)}."]
    pct = zone.loss_alarm_pct
    if pct is None or not 0 <= pct <= 100:
        errors["loss_alarm_pct"] = ["A percentage from 0 to 100."]


@transaction.atomic
def zone_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str | None = None,
    parent_id: Any = None,
    loss_alarm_pct: Any = None,
) -> Zone:
    """A zone under ``parent_id`` (visible to the actor), or a top-level zone (needs
    access_all_zones). ``kind`` defaults to network for a top-level zone and district
    under a parent. Raises ValidationError (400), CodeTakenError (409)."""
    require_perm(actor, "pipeline.add_zone")
    errors: dict[str, list[str]] = {}
    parent = _zone_parent_resolve(actor=actor, parent_id=parent_id, errors=errors)
    if kind is None:
        kind = Zone.Kind.NETWORK if parent_id is None else Zone.Kind.DISTRICT
    zone = Zone(code=code, name=name, kind=kind, parent=parent)
    if loss_alarm_pct is not None:
        zone.loss_alarm_pct = loss_alarm_pct
    _zone_check(zone, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(zone, actor, created=True)
    _save(zone, model=Zone)
    return selectors.zones_with_path().get(pk=zone.pk)


@transaction.atomic
def zone_update(*, actor: Actor, zone: Zone, data: Mapping[str, Any]) -> Zone:
    """Partial update with the fields of zone_create (``parent`` for the parent id).
    Moving the zone under itself or one of its sub-zones raises ZoneCycleError (409)."""
    require_perm(actor, "pipeline.change_zone")
    _require_visible(actor, zone.pk)
    errors: dict[str, list[str]] = {}
    if "parent" in data:
        _lock_zone_tree()
    zone = _locked_or_404(Zone, zone.pk)
    _apply(zone, data, ZONE_FIELDS)
    if "parent" in data:
        parent = _zone_parent_resolve(actor=actor, parent_id=data["parent"], errors=errors)
        if parent is not None and (
            parent.pk == zone.pk or str(parent.pk) in selectors.zone_ids_with_descendants([zone.pk])
        ):
            raise ZoneCycleError(zone_id=zone.pk, parent_id=parent.pk)
        if "parent" not in errors:
            zone.parent = parent
    _zone_check(zone, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(zone, actor, created=False)
    _save(zone, model=Zone)
    return selectors.zones_with_path().get(pk=zone.pk)


@transaction.atomic
def zone_delete(*, actor: Actor, zone: Zone) -> None:
    """Refused (InUseError, 409) while the zone has sub-zones or assets (deleted ones
    too: their history still names the zone), or anything else refers to it."""
    require_perm(actor, "pipeline.delete_zone")
    _require_visible(actor, zone.pk)
    _lock_zone_tree()
    zone = _locked_or_404(Zone, zone.pk, key_change=True)
    if zone.children.exists() or Asset.all_objects.filter(zone=zone).exists():
        raise InUseError(zone_id=zone.pk)
    try:
        with transaction.atomic():
            zone.delete()
    except (ProtectedError, RestrictedError) as error:
        raise InUseError(zone_id=zone.pk) from error


# --- assets --------------------------------------------------------------------------------

ASSET_FIELDS = ("code", "name", "kind", "status", "latitude", "longitude", "installed_on")


def _asset_check(asset: Asset, errors: dict[str, list[str]]) -> None:
    _code_check(Asset, asset.code, errors)
    if not asset.name or not str(asset.name).strip():
        errors["name"] = ["Required."]
    if asset.kind not in Asset.Kind.values:
        errors["kind"] = [f"One of {', '.join(Asset.Kind.values)}."]
    if asset.status not in Asset.Status.values:
        errors["status"] = [f"One of {', '.join(Asset.Status.values)}."]
    _position_check(asset.latitude, asset.longitude, errors)
    if not isinstance(asset.attributes, dict):
        errors["attributes"] = ["A JSON object."]


def _zone_for_write(
    *, actor: Actor, zone_id: Any, errors: dict[str, list[str]], field: str = "zone"
) -> Zone | None:
    """The zone named in a write, locked (FOR NO KEY UPDATE) so a concurrent delete
    waits for this transaction; an unknown or invisible zone is a field error."""
    zone = selectors.zone_visible_or_none(actor=actor, zone_id=zone_id)
    if zone is None:
        errors[field] = ["Unknown zone."]
        return None
    zone = _locked(Zone, zone.pk)
    if zone is None:
        errors[field] = ["Unknown zone."]
    return zone


@transaction.atomic
def asset_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str,
    zone_id: Any,
    latitude: float,
    longitude: float,
    status: str = Asset.Status.ACTIVE,
    installed_on: Any = None,
    attributes: Mapping[str, Any] | None = None,
) -> Asset:
    """Raises ValidationError (400; an invisible zone is an unknown zone) and
    CodeTakenError (409)."""
    require_perm(actor, "pipeline.add_asset")
    errors: dict[str, list[str]] = {}
    zone = _zone_for_write(actor=actor, zone_id=zone_id, errors=errors)
    asset = Asset(
        code=code,
        name=name,
        kind=kind,
        status=status,
        zone=zone,
        latitude=latitude,
        longitude=longitude,
        installed_on=installed_on,
        attributes=dict(attributes or {}),
    )
    _asset_check(asset, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(asset, actor, created=True)
    _save(asset, model=Asset)
    return asset


@transaction.atomic
def asset_update(*, actor: Actor, asset: Asset, data: Mapping[str, Any]) -> Asset:
    """Partial update with the fields of asset_create (``zone`` for the zone id). A new
    zone moves the asset's sensors with it, in the same transaction."""
    require_perm(actor, "pipeline.change_asset")
    _require_visible(actor, asset.zone_id)
    # Locked: a sensor created meanwhile on this asset takes its zone after the move.
    asset = _locked_or_404(Asset, asset.pk)
    errors: dict[str, list[str]] = {}
    _apply(asset, data, ASSET_FIELDS)
    if "attributes" in data:
        asset.attributes = data["attributes"]
    moved = False
    if "zone" in data:
        zone = _zone_for_write(actor=actor, zone_id=data["zone"], errors=errors)
        if zone is not None:
            moved = zone.pk != asset.zone_id
            asset.zone = zone
    _asset_check(asset, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(asset, actor, created=False)
    _save(asset, model=Asset)
    if moved:
        Sensor.all_objects.filter(asset=asset).update(zone=asset.zone, updated_at=timezone.now())
    return Asset.objects.select_related("zone").get(pk=asset.pk)


@transaction.atomic
def asset_delete(*, actor: Actor, asset: Asset) -> None:
    """Soft delete. Refused (InUseError, 409) while sensors or devices still sit on the
    asset: delete or move them first."""
    require_perm(actor, "pipeline.delete_asset")
    _require_visible(actor, asset.zone_id)
    asset = _locked_or_404(Asset, asset.pk, key_change=True)
    sensors = Sensor.objects.filter(asset=asset).count()
    devices = Device.objects.filter(asset=asset).count()
    if sensors or devices:
        raise InUseError(asset_id=asset.pk, sensors=sensors, devices=devices)
    asset.deleted_at = timezone.now()
    _audit_fields(asset, actor, created=False)
    asset.save(update_fields=["deleted_at", "updated_by", "updated_at"])


# --- devices -------------------------------------------------------------------------------


def _asset_for_write(
    *, actor: Actor, asset_id: Any, errors: dict[str, list[str]], field: str = "asset"
) -> Asset | None:
    """The asset named in a write, locked so it cannot move zone or vanish meanwhile."""
    asset = selectors.asset_visible_or_none(actor=actor, asset_id=asset_id)
    if asset is None:
        errors[field] = ["Unknown asset."]
        return None
    # No select_related here: PostgreSQL rechecks a locked join against the row's new
    # version, and an asset that moved zone meanwhile would drop out of it.
    asset = _locked(Asset, asset.pk)
    if asset is None:
        errors[field] = ["Unknown asset."]
    return asset


def _device_asset_resolve(
    *, actor: Actor, asset_id: Any, errors: dict[str, list[str]]
) -> Asset | None:
    # A device on no asset belongs to no zone: only access_all_zones sees it afterwards.
    if asset_id is None:
        require_perm(actor, selectors.ALL_ZONES_PERMISSION)
        return None
    return _asset_for_write(actor=actor, asset_id=asset_id, errors=errors)


def _device_check(device: Device, errors: dict[str, list[str]]) -> None:
    _code_check(Device, device.code, errors)
    if not device.name or not str(device.name).strip():
        errors["name"] = ["Required."]


def _device_require_visible(actor: Actor, device: Device) -> None:
    if selectors.device_visible_or_none(actor=actor, device_id=device.pk) is None:
        raise NotFoundError()


@transaction.atomic
def device_create(*, actor: Actor, code: str, name: str, asset_id: Any = None) -> Device:
    """A data logger, on an asset the actor can see (or on none, for access_all_zones
    holders). Raises ValidationError (400) and CodeTakenError (409)."""
    require_perm(actor, "pipeline.add_device")
    errors: dict[str, list[str]] = {}
    asset = _device_asset_resolve(actor=actor, asset_id=asset_id, errors=errors)
    device = Device(code=code, name=name, asset=asset)
    _device_check(device, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(device, actor, created=True)
    _save(device, model=Device)
    return device


@transaction.atomic
def device_update(*, actor: Actor, device: Device, data: Mapping[str, Any]) -> Device:
    require_perm(actor, "pipeline.change_device")
    _device_require_visible(actor, device)
    device = _locked_or_404(Device, device.pk)
    errors: dict[str, list[str]] = {}
    _apply(device, data, ("code", "name"))
    if "asset" in data:
        asset = _device_asset_resolve(actor=actor, asset_id=data["asset"], errors=errors)
        if "asset" not in errors:
            device.asset = asset
    _device_check(device, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(device, actor, created=False)
    _save(device, model=Device)
    return Device.objects.select_related("asset").get(pk=device.pk)


@transaction.atomic
def device_delete(*, actor: Actor, device: Device) -> None:
    """Soft delete. Refused (InUseError, 409) while live sensors are wired to it: rewire
    them first, so no sensor silently stops reporting."""
    require_perm(actor, "pipeline.delete_device")
    _device_require_visible(actor, device)
    device = _locked_or_404(Device, device.pk, key_change=True)
    sensors = Sensor.objects.filter(device=device).count()
    if sensors:
        raise InUseError(device_id=device.pk, sensors=sensors)
    device.deleted_at = timezone.now()
    _audit_fields(device, actor, created=False)
    device.save(update_fields=["deleted_at", "updated_by", "updated_at"])


# --- sensors -------------------------------------------------------------------------------

SENSOR_FIELDS = (
    "code",
    "kind",
    "unit",
    "valid_min",
    "valid_max",
    "calibration_factor",
    "calibration_offset",
    "calibrated_on",
    "reference_value",
    "expected_interval_seconds",
    "balance_role",
    "is_active",
)


def _sensor_check(sensor: Sensor, errors: dict[str, list[str]]) -> None:
    _code_check(Sensor, sensor.code, errors)
    if sensor.kind not in Sensor.Kind.values:
        errors["kind"] = [f"One of {', '.join(Sensor.Kind.values)}."]
    if sensor.balance_role not in Sensor.BalanceRole.values:
        errors["balance_role"] = [f"One of {', '.join(Sensor.BalanceRole.values)}."]
    if not sensor.unit or not str(sensor.unit).strip():
        errors["unit"] = ["Required, e.g. m3/h, bar, m."]
    for name in ("valid_min", "valid_max", "calibration_factor", "calibration_offset"):
        if not _finite(getattr(sensor, name)):
            errors[name] = ["A finite number."]
    if sensor.reference_value is not None and not _finite(sensor.reference_value):
        errors["reference_value"] = ["A finite number."]
    if (
        "valid_min" not in errors
        and "valid_max" not in errors
        and not sensor.valid_min < sensor.valid_max
    ):
        errors["valid_max"] = ["Must be greater than valid_min."]
    if "calibration_factor" not in errors and sensor.calibration_factor == 0:
        errors["calibration_factor"] = ["Cannot be 0."]
    interval = sensor.expected_interval_seconds
    if not isinstance(interval, int) or isinstance(interval, bool) or interval <= 0:
        errors["expected_interval_seconds"] = ["A positive number of seconds."]


def _sensor_device_resolve(
    *, actor: Actor, device_id: Any, errors: dict[str, list[str]]
) -> Device | None:
    if device_id is None:
        return None
    device = selectors.device_visible_or_none(actor=actor, device_id=device_id)
    if device is None:
        errors["device"] = ["Unknown device."]
    return device


@transaction.atomic
def sensor_create(
    *,
    actor: Actor,
    code: str,
    asset_id: Any,
    kind: str,
    unit: str,
    valid_min: float,
    valid_max: float,
    device_id: Any = None,
    **optional: Any,
) -> Sensor:
    """A sensor on an asset the actor can see; its zone is the asset's. ``optional``:
    calibration_factor (not 0), calibration_offset, calibrated_on, reference_value,
    expected_interval_seconds, balance_role, is_active. Raises ValidationError (400:
    valid_min not below valid_max, an unknown or invisible asset or device...) and
    CodeTakenError (409)."""
    require_perm(actor, "pipeline.add_sensor")
    unknown = set(optional) - set(SENSOR_FIELDS)
    if unknown:
        raise TypeError(f"sensor_create() got unexpected arguments {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    asset = _asset_for_write(actor=actor, asset_id=asset_id, errors=errors)
    device = _sensor_device_resolve(actor=actor, device_id=device_id, errors=errors)
    sensor = Sensor(code=code, kind=kind, unit=unit, valid_min=valid_min, valid_max=valid_max)
    _apply(sensor, optional, SENSOR_FIELDS)
    sensor.device = device
    if asset is not None:
        sensor.asset = asset
        sensor.zone_id = asset.zone_id
    _sensor_check(sensor, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(sensor, actor, created=True)
    _save(sensor, model=Sensor)
    return sensor


@transaction.atomic
def sensor_update(*, actor: Actor, sensor: Sensor, data: Mapping[str, Any]) -> Sensor:
    """Partial update with the fields of sensor_create (``asset`` and ``device`` for the
    ids); a new asset brings its zone."""
    require_perm(actor, "pipeline.change_sensor")
    _require_visible(actor, sensor.zone_id)
    sensor = _locked_or_404(Sensor, sensor.pk)
    errors: dict[str, list[str]] = {}
    _apply(sensor, data, SENSOR_FIELDS)
    if "asset" in data:
        asset = _asset_for_write(actor=actor, asset_id=data["asset"], errors=errors)
        if asset is not None:
            sensor.asset = asset
            sensor.zone_id = asset.zone_id
    if "device" in data:
        device = _sensor_device_resolve(actor=actor, device_id=data["device"], errors=errors)
        if "device" not in errors:
            sensor.device = device
    _sensor_check(sensor, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(sensor, actor, created=False)
    _save(sensor, model=Sensor)
    return Sensor.objects.select_related("asset", "device").get(pk=sensor.pk)


@transaction.atomic
def sensor_delete(*, actor: Actor, sensor: Sensor) -> None:
    """Soft delete: the row stays for its readings, alarms and rules' history; it no
    longer accepts readings (is_active false) and is no longer listed."""
    require_perm(actor, "pipeline.delete_sensor")
    _require_visible(actor, sensor.zone_id)
    sensor = _locked_or_404(Sensor, sensor.pk, key_change=True)
    sensor.deleted_at = timezone.now()
    sensor.is_active = False
    _audit_fields(sensor, actor, created=False)
    sensor.save(update_fields=["deleted_at", "is_active", "updated_by", "updated_at"])


# --- field teams ---------------------------------------------------------------------------

TEAM_FIELDS = ("code", "name", "base_latitude", "base_longitude", "is_available")


def skill_normalize(value: Any) -> str:
    """A skill as stored and matched: trimmed and lower-case. Raises ValueError when it
    is empty, too long or has characters other than letters, digits, space, '.', '_'
    and '-'."""
    if not isinstance(value, str):
        raise ValueError("A skill is text.")
    skill = " ".join(value.split()).lower()
    if not skill or len(skill) > SKILL_MAX_LENGTH or not SKILL_PATTERN.match(skill):
        raise ValueError(
            f"Up to {SKILL_MAX_LENGTH} letters, digits, spaces, '.', '_' or '-' per skill."
        )
    return skill


def skills_normalize(values: Any) -> list[str]:
    """Skills lower-cased and trimmed, duplicates dropped (first one kept, order kept).
    Raises ValidationError on the ``skills`` field."""
    if not isinstance(values, list | tuple):
        raise ValidationError({"skills": ["A list of skills."]})
    if len(values) > SKILLS_MAX:
        raise ValidationError({"skills": [f"At most {SKILLS_MAX} skills."]})
    skills: list[str] = []
    for value in values:
        try:
            skill = skill_normalize(value)
        except ValueError as error:
            raise ValidationError({"skills": [str(error)]}) from error
        if skill not in skills:
            skills.append(skill)
    return skills


def _team_check(team: FieldTeam, errors: dict[str, list[str]]) -> None:
    _code_check(FieldTeam, team.code, errors)
    if not team.name or not str(team.name).strip():
        errors["name"] = ["Required."]
    _position_check(team.base_latitude, team.base_longitude, errors, prefix="base_")
    if not isinstance(team.is_available, bool):
        errors["is_available"] = ["true or false."]


def _team_skills_apply(team: FieldTeam, data: Mapping[str, Any], errors: dict) -> None:
    if "skills" in data:
        try:
            team.skills = skills_normalize(data["skills"])
        except ValidationError as error:
            errors.update(error.message_dict)


@transaction.atomic
def team_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    base_latitude: float,
    base_longitude: float,
    skills: Iterable[str] = (),
    is_available: bool = True,
) -> FieldTeam:
    """Raises ValidationError (400) and CodeTakenError (409)."""
    require_perm(actor, "pipeline.add_fieldteam")
    errors: dict[str, list[str]] = {}
    team = FieldTeam(
        code=code,
        name=name,
        base_latitude=base_latitude,
        base_longitude=base_longitude,
        is_available=is_available,
    )
    _team_skills_apply(team, {"skills": list(skills)}, errors)
    _team_check(team, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(team, actor, created=True)
    _save(team, model=FieldTeam)
    return team


@transaction.atomic
def team_update(*, actor: Actor, team: FieldTeam, data: Mapping[str, Any]) -> FieldTeam:
    """Partial update with the fields of team_create; ``skills`` replaces the list."""
    require_perm(actor, "pipeline.change_fieldteam")
    team = _locked_or_404(FieldTeam, team.pk)
    errors: dict[str, list[str]] = {}
    _apply(team, data, TEAM_FIELDS)
    _team_skills_apply(team, data, errors)
    _team_check(team, errors)
    if errors:
        raise ValidationError(errors)
    _audit_fields(team, actor, created=False)
    _save(team, model=FieldTeam)
    return team


OPEN_INCIDENT_STATUSES = (
    Incident.Status.OPEN,
    Incident.Status.ACKNOWLEDGED,
    Incident.Status.ASSIGNED,
    Incident.Status.IN_PROGRESS,
)


@transaction.atomic
def team_delete(*, actor: Actor, team: FieldTeam) -> None:
    """Soft delete. Refused (InUseError, 409) while an unresolved incident is assigned
    to the team or an offer to it is live; its members stay listed on the row."""
    require_perm(actor, "pipeline.delete_fieldteam")
    team = _locked_or_404(FieldTeam, team.pk, key_change=True)
    incidents = Incident.objects.filter(
        assigned_team=team, status__in=OPEN_INCIDENT_STATUSES
    ).count()
    offers = DispatchOffer.objects.filter(
        team=team, status__in=[DispatchOffer.Status.OFFERED, DispatchOffer.Status.ACCEPTED]
    ).count()
    if incidents or offers:
        raise InUseError(team_id=team.pk, incidents=incidents, offers=offers)
    team.deleted_at = timezone.now()
    team.is_available = False
    _audit_fields(team, actor, created=False)
    team.save(update_fields=["deleted_at", "is_available", "updated_by", "updated_at"])


@transaction.atomic
def team_member_add(
    *, actor: Actor, team: FieldTeam, user_id: Any, role: str = TeamMember.Role.MEMBER
) -> TeamMember:
    """Adds an active user of this tenant to the team, or changes the role of one who
    is already in it (idempotent). Raises ValidationError (400) for an unknown user or
    role."""
    require_perm(actor, "pipeline.change_fieldteam")
    errors: dict[str, list[str]] = {}
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        errors["user"] = ["Unknown user."]
    if role not in TeamMember.Role.values:
        errors["role"] = [f"One of {', '.join(TeamMember.Role.values)}."]
    if errors:
        raise ValidationError(errors)
    team = _locked_or_404(FieldTeam, team.pk)
    membership = TeamMember.objects.filter(team=team, user=user).first()
    if membership is None:
        membership = TeamMember(team=team, user=user, role=role)
        _audit_fields(membership, actor, created=True)
        membership.save()
    elif membership.role != role:
        membership.role = role
        _audit_fields(membership, actor, created=False)
        membership.save(update_fields=["role", "updated_by", "updated_at"])
    return membership


@transaction.atomic
def team_member_remove(*, actor: Actor, team: FieldTeam, user_id: Any) -> None:
    """Raises NotFoundError (404) when the user is not in the team."""
    require_perm(actor, "pipeline.change_fieldteam")
    deleted, _ = TeamMember.objects.filter(team=team, user_id=user_id).delete()
    if not deleted:
        raise NotFoundError()


POSITION_PERMISSIONS = ("pipeline.change_fieldteam", "pipeline.approve_dispatch_response")


@transaction.atomic
def team_position_report(
    *, actor: Actor, team: FieldTeam, latitude: float, longitude: float
) -> FieldTeam:
    """Records where the team is now (``last_latitude``/``last_longitude``, seen now):
    dispatch ranks teams from it. Allowed to the team's members, and to users who
    manage teams (change_fieldteam) or answer dispatch for any team
    (approve_dispatch_response, the manager role)."""
    if not actor.has_any_perm(*POSITION_PERMISSIONS) and not selectors.team_is_member(
        team=team, user=actor.user
    ):
        require_perm(actor, POSITION_PERMISSIONS[0])
    errors: dict[str, list[str]] = {}
    _position_check(latitude, longitude, errors)
    if errors:
        raise ValidationError(errors)
    team = _locked_or_404(FieldTeam, team.pk)
    team.last_latitude = latitude
    team.last_longitude = longitude
    team.last_seen_at = timezone.now()
    team.updated_by = actor.user
    team.save(
        update_fields=[
            "last_latitude",
            "last_longitude",
            "last_seen_at",
            "updated_by",
            "updated_at",
        ]
    )
    return team
