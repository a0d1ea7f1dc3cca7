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
