"""Reads of the network, and the zone row scope every pipeline selector applies.

A ``zone`` scope grant covers that zone and every zone under it. Holders of
``pipeline.access_all_zones`` (tenant admins) see every zone.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import CharField, Prefetch, QuerySet
from django.db.models.expressions import RawSQL

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.pipeline.models import Asset, Device, FieldTeam, Sensor, TeamMember, Zone

ZONE_SCOPE = "zone"
ALL_ZONES_PERMISSION = "pipeline.access_all_zones"


def zone_ids_with_descendants(zone_ids: Iterable[str]) -> set[str]:
    """The given zones and every zone below them, in one recursive query."""
    roots = [str(zone_id) for zone_id in zone_ids]
    if not roots:
        return set()
    table = Zone._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE tree AS (
                SELECT id FROM {table} WHERE id::text = ANY(%s)
                UNION
                SELECT z.id FROM {table} z JOIN tree ON z.parent_id = tree.id
            )
            SELECT id::text FROM tree
            """,  # noqa: S608 - the model's own table name
            [roots],
        )
        return {row[0] for row in cursor.fetchall()}


def zone_ids_visible(*, actor: Actor) -> set[str] | None:
    """The ids of the zones ``actor`` may see, or ``None`` for every zone."""
    if actor.has_perm(ALL_ZONES_PERMISSION):
        return None
    return zone_ids_with_descendants(actor.scopes.get(ZONE_SCOPE, frozenset()))


def zone_scope_filter(queryset: QuerySet, *, actor: Actor, field: str = "zone") -> QuerySet:
    """Rows of ``queryset`` whose ``field`` (a zone foreign key path) the actor may see:
    every row for ``access_all_zones``, none without grants."""
    visible = zone_ids_visible(actor=actor)
    if visible is None:
        return queryset
    return queryset.filter(**{f"{field}__in": list(visible)})


def zone_visible_to(*, actor: Actor, zone_id) -> bool:
    visible = zone_ids_visible(actor=actor)
    return visible is None or str(zone_id) in visible


def zone_ancestor_ids(zone_id) -> set[str]:
    """``zone_id`` and every zone above it, in one recursive query."""
    table = Zone._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE up AS (
                SELECT id, parent_id FROM {table} WHERE id = %s
                UNION
                SELECT z.id, z.parent_id FROM {table} z JOIN up ON z.id = up.parent_id
            )
            SELECT id::text FROM up
            """,  # noqa: S608 - the model's own table name
            [zone_id],
        )
        return {row[0] for row in cursor.fetchall()}


def zone_audience_user_ids(*, zone_id) -> list:
    """Active users who may see ``zone_id``'s records: holders of ``access_all_zones``
    (through a role, or superusers) and users granted the zone or a zone above it. Who
    realtime events and notifications about that zone go to."""
    from django.db.models import Q

    from apps.accounts.models import ScopeGrant, User

    app_label, codename = ALL_ZONES_PERMISSION.split(".")
    granted = ScopeGrant.objects.filter(
        scope_type=ZONE_SCOPE, scope_value__in=zone_ancestor_ids(zone_id)
    ).values("user_id")
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(
                roles__permissions__codename=codename,
                roles__permissions__content_type__app_label=app_label,
            )
            | Q(id__in=granted)
        )
        .values_list("id", flat=True)
        .distinct()
    )


# --- zones -----------------------------------------------------------------------------

# Codes from the root down to the zone, in one correlated recursive query per row; the
# level cap stops a cycle that slipped into the data from looping. ``pipeline_zone`` is
# the outer query's table (Django does not alias the base table).
_ZONE_PATH_SQL = f"""
    (WITH RECURSIVE up(id, parent_id, code, level) AS (
        SELECT z.id, z.parent_id, z.code, 0 FROM {Zone._meta.db_table} z
        WHERE z.id = {Zone._meta.db_table}.id
        UNION ALL
        SELECT p.id, p.parent_id, p.code, up.level + 1
        FROM {Zone._meta.db_table} p JOIN up ON p.id = up.parent_id
        WHERE up.level < 64
    )
    SELECT array_agg(code ORDER BY level DESC) FROM up)
"""  # noqa: S608 - the model's own table name


def zone_list(*, actor: Actor) -> QuerySet[Zone]:
    """The zones the actor may see, each annotated with ``path``: the codes from its
    root down to itself (so ``len(path) - 1`` is its depth). A scoped user sees the
    zones granted and those below them; the parent of a granted zone keeps its id in
    ``parent`` but is not listed."""
    require_perm(actor, "pipeline.view_zone")
    return zone_scope_filter(zones_with_path(), actor=actor, field="pk")


def zones_with_path() -> QuerySet[Zone]:
    """Every zone, annotated with ``path`` (see zone_list); no scope applied."""
    return Zone.objects.annotate(
        path=RawSQL(_ZONE_PATH_SQL, [], output_field=ArrayField(CharField()))  # noqa: S611
    )


def zone_get(*, actor: Actor, zone_id: object) -> Zone:
    zone = zone_list(actor=actor).filter(pk=zone_id).first()
    if zone is None:
        raise NotFoundError()
    return zone


def zone_visible_or_none(*, actor: Actor, zone_id: object) -> Zone | None:
    """The zone if it exists and the actor may see it, without a view permission check:
    services use it to resolve the zone an actor names in a write."""
    if zone_id is None:
        return None
    return zone_scope_filter(Zone.objects.all(), actor=actor, field="pk").filter(pk=zone_id).first()


# --- assets ------------------------------------------------------------------------------


def asset_list(*, actor: Actor) -> QuerySet[Asset]:
    """Live (not deleted) assets of the zones the actor may see."""
    require_perm(actor, "pipeline.view_asset")
    return zone_scope_filter(Asset.objects.select_related("zone"), actor=actor)


def asset_get(*, actor: Actor, asset_id: object) -> Asset:
    asset = asset_list(actor=actor).filter(pk=asset_id).first()
    if asset is None:
        raise NotFoundError()
    return asset


def asset_visible_or_none(*, actor: Actor, asset_id: object) -> Asset | None:
    if asset_id is None:
        return None
    return zone_scope_filter(Asset.objects.all(), actor=actor).filter(pk=asset_id).first()


def zone_subtree_filter(queryset: QuerySet, *, zone_id: object, field: str = "zone") -> QuerySet:
    """Rows of ``queryset`` in ``zone_id`` or any zone below it."""
    return queryset.filter(**{f"{field}__in": list(zone_ids_with_descendants([zone_id]))})


# --- devices -------------------------------------------------------------------------------


def _device_scope(queryset: QuerySet[Device], *, actor: Actor) -> QuerySet[Device]:
    # A device is seen through the zone of the asset it sits on; one on no asset belongs
    # to no zone, so only access_all_zones holders see it.
    return zone_scope_filter(queryset, actor=actor, field="asset__zone")


def device_list(*, actor: Actor) -> QuerySet[Device]:
    require_perm(actor, "pipeline.view_device")
    return _device_scope(Device.objects.select_related("asset"), actor=actor)


def device_get(*, actor: Actor, device_id: object) -> Device:
    device = device_list(actor=actor).filter(pk=device_id).first()
    if device is None:
        raise NotFoundError()
    return device


def device_visible_or_none(*, actor: Actor, device_id: object) -> Device | None:
    if device_id is None:
        return None
    return _device_scope(Device.objects.all(), actor=actor).filter(pk=device_id).first()


# --- sensors -------------------------------------------------------------------------------


def sensor_list(*, actor: Actor) -> QuerySet[Sensor]:
    """Live sensors of the zones the actor may see (by the sensor's own zone, which the
    services keep equal to its asset's)."""
    require_perm(actor, "pipeline.view_sensor")
    return zone_scope_filter(Sensor.objects.select_related("asset", "device"), actor=actor)


def sensor_get(*, actor: Actor, sensor_id: object) -> Sensor:
    sensor = sensor_list(actor=actor).filter(pk=sensor_id).first()
    if sensor is None:
        raise NotFoundError()
    return sensor


# --- field teams ---------------------------------------------------------------------------
# Teams are not zone-scoped: a crew works wherever dispatch sends it (the nearest team,
# across zones), so every user with view_fieldteam sees every team.


def team_list(*, actor: Actor) -> QuerySet[FieldTeam]:
    require_perm(actor, "pipeline.view_fieldteam")
    return FieldTeam.objects.prefetch_related(
        Prefetch("memberships", queryset=TeamMember.objects.select_related("user"))
    )


def team_get(*, actor: Actor, team_id: object) -> FieldTeam:
    team = team_list(actor=actor).filter(pk=team_id).first()
    if team is None:
        raise NotFoundError()
    return team


def team_is_member(*, team: FieldTeam, user: object) -> bool:
    return TeamMember.objects.filter(team=team, user=user).exists()


def team_get_for_member(*, actor: Actor, team_id: object) -> FieldTeam:
    """The team for a user who may see teams, or for one of its own members (a field
    worker needs no other permission to report where the crew is)."""
    queryset = FieldTeam.objects.prefetch_related(
        Prefetch("memberships", queryset=TeamMember.objects.select_related("user"))
    )
    if not actor.has_perm("pipeline.view_fieldteam"):
        queryset = queryset.filter(memberships__user=actor.user)
    team = queryset.filter(pk=team_id).first()
    if team is None:
        raise NotFoundError()
    return team


def team_member_list(*, actor: Actor, team: FieldTeam) -> QuerySet[TeamMember]:
    require_perm(actor, "pipeline.view_fieldteam")
    return TeamMember.objects.filter(team=team).select_related("user")


def team_ids_of_user(*, user: object) -> list:
    """The live teams ``user`` belongs to."""
    return list(
        FieldTeam.objects.filter(memberships__user=user).values_list("id", flat=True).distinct()
    )
