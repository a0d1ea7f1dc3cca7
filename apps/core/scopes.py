"""Row scopes: limit a selector's rows to the scopes granted to the actor.

A module names a scope type (``department``, ``zone``, ``ward``...) and the field that
holds it. Actors whose permissions include the bypass permission see every row;
everyone else sees only rows whose field is in their grants — none if they have none.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet

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
    if _crosses_to_many(queryset.model, field):
        # A join over a to-many relation repeats a row once per matching related row;
        # a subquery on the primary key returns each row once and keeps the ordering.
        return queryset.filter(pk__in=queryset.filter(condition).values("pk"))
    return queryset.filter(condition)


def _crosses_to_many(model: type[Model], path: str) -> bool:
    for name in path.split("__"):
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False  # a lookup or transform ("__iexact"), not a relation
        if model_field.many_to_many or model_field.one_to_many:
            return True
        if model_field.related_model is None:
            return False
        model = model_field.related_model
    return False
