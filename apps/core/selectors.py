from __future__ import annotations

from auditlog.models import LogEntry
from django.db.models import QuerySet

from apps.core.errors import NotFoundError, PermissionDeniedError
from apps.core.types import Actor

AUDIT_PERMISSION = "auditlog.view_logentry"


def audit_entry_list(*, actor: Actor) -> QuerySet[LogEntry]:
    """The tenant's audit trail; only for actors allowed to read it (tenant admins)."""
    if not actor.has_perm(AUDIT_PERMISSION):
        raise PermissionDeniedError(permission=AUDIT_PERMISSION)
    return LogEntry.objects.select_related("actor", "content_type")


def audit_entry_get(*, actor: Actor, entry_id: int) -> LogEntry:
    entry = audit_entry_list(actor=actor).filter(pk=entry_id).first()
    if entry is None:
        raise NotFoundError()
    return entry
