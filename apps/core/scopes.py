"""Row scopes: limit a selector's rows to the scopes granted to the actor.

A module names a scope type (``department``, ``zone``, ``ward``...) and the field that
holds it. Actors whose permissions include the bypass permission see every row;
everyone else sees only rows whose field is in their grants — none if they have none.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.core.types import Actor


def scope_filter(
    queryset: QuerySet,
    *,
    actor: Actor,
    scope_type: str,
    field: str,
    bypass_permission: str | None = None,
    extra: Q | None = None,
) -> QuerySet:
    """Rows of ``queryset`` the actor may see through ``scope_type`` grants.

    ``extra`` widens the result (e.g. "or the actor's own records").
    """
    if bypass_permission and actor.has_perm(bypass_permission):
        return queryset
    allowed = actor.scopes.get(scope_type, frozenset())
    condition = Q(**{f"{field}__in": list(allowed)})
    if extra is not None:
        condition |= extra
    return queryset.filter(condition)
