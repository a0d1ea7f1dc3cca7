"""Reads of the network, and the zone row scope every pipeline selector applies.

A ``zone`` scope grant covers that zone and every zone under it. Holders of
``pipeline.access_all_zones`` (tenant admins) see every zone.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet

from apps.core.types import Actor
from apps.pipeline.models import Zone

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
