"""Celery tasks of HR leave: thin wrappers around apps.hr.services.leave."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from apps.hr.services import leave as services
from apps.jobs.base import tenant_task


@tenant_task(name="hr.leave_accrue", queue="low")
def leave_accrue(*, schema_name: str, on: str | None = None) -> int:
    """Daily, per tenant with the hr module, through ``jobs.fanout`` (CELERY_BEAT_SCHEDULE).
    Posts the current period's accruals; a second run in a period posts nothing."""
    day = date.fromisoformat(on) if on else timezone.localdate()
    return services.leave_accrue(on=day)
