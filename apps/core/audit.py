"""Audit trail (django-auditlog): every write through the API and the admin, per tenant."""

from __future__ import annotations

from typing import Any

from auditlog.context import auditlog_value


def audit_actor_set(user: Any) -> None:
    """Name ``user`` as the actor of the writes in the current audit context."""
    try:
        context = auditlog_value.get()
    except LookupError:
        return
    context["actor"] = user
