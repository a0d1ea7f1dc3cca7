"""Small write helpers every HR sub-domain shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from apps.core.types import Actor


def audit_fields(instance: Any, actor: Actor | None, *, created: bool) -> None:
    """Stamp who created / last changed ``instance``; ``actor`` None is the system
    (scheduled jobs)."""
    user = actor.user if actor is not None else None
    if created:
        instance.created_by = user
    instance.updated_by = user


def references_apply(
    instance: Any,
    data: Mapping[str, Any],
    references: Mapping[str, tuple[QuerySet, str]],
    errors: dict[str, list[str]],
) -> None:
    """For each ``name`` of ``references`` present in ``data``, look the id up in its
    queryset and set the row on ``instance``; an unknown id becomes ``errors[name]`` with
    the given message instead (the caller raises them together with its other fields)."""
    for name, (queryset, unknown_message) in references.items():
        if name not in data:
            continue
        target = queryset.filter(pk=data[name]).first()
        if target is None:
            errors[name] = [unknown_message]
        else:
            setattr(instance, name, target)
