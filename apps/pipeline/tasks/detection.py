"""Celery tasks of pipeline detection: thin wrappers around apps.pipeline.services.detection.

Both run per tenant with the pipeline module through ``jobs.fanout`` (CELERY_BEAT_SCHEDULE
in config/settings/components/celery.py): ``pipeline.detect`` every minute,
``pipeline.water_balance`` hourly for yesterday (an upsert, so late readings still count).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from apps.jobs.base import tenant_task
from apps.pipeline.services import detection as services


@tenant_task(name="pipeline.detect")
def detect(*, schema_name: str) -> dict:
    """One detection pass over every active rule of the tenant."""
    return services.detection_run().as_dict()


@tenant_task(name="pipeline.water_balance", queue="low")
def water_balance(*, schema_name: str, day: str | None = None) -> int:
    """The balance of ``day`` (ISO date), by default yesterday in the tenant's time zone.
    Returns the number of zones computed."""
    if day:
        on = date.fromisoformat(day)
    else:
        on = timezone.now().astimezone(services.tenant_time_zone()).date() - timedelta(days=1)
    return len(services.water_balance_compute(day=on))
