"""Celery tasks of pipeline ingestion: thin wrappers around apps.pipeline.services.ingestion."""

from __future__ import annotations

from apps.jobs.base import tenant_task
from apps.pipeline.services import ingestion as services


@tenant_task(name="pipeline.reading_partitions_ahead", queue="low")
def reading_partitions_ahead(*, schema_name: str) -> int:
    """Daily, per tenant with the pipeline module, through ``jobs.fanout`` (see
    CELERY_BEAT_SCHEDULE): this month's reading partition and the next two. A second
    run creates nothing. Returns how many partitions were created."""
    return len(services.reading_partitions_ahead(months_ahead=2))
