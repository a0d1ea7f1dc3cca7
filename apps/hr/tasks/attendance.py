"""Celery tasks of HR attendance: thin wrappers around apps.hr.services.attendance."""

from __future__ import annotations

from apps.hr.services import attendance as services
from apps.jobs.base import tenant_task


@tenant_task(name="hr.attendance_auto_close")
def attendance_auto_close(*, schema_name: str) -> int:
    """Every 15 minutes, per tenant with the hr module, through ``jobs.fanout`` (see
    CELERY_BEAT_SCHEDULE). Idempotent: a second delivery finds nothing left open."""
    return services.attendance_auto_close()
