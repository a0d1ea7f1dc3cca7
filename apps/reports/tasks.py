"""Report tasks: thin wrappers entering the tenant (the base task) and calling services."""

from __future__ import annotations

from apps.jobs import services as job_services
from apps.jobs.base import tenant_task
from apps.reports import services


# A million-row workbook takes tens of seconds; the limits leave ample room but stay below
# the broker's visibility_timeout (600 s, config/settings/components/celery.py): past it
# Redis would hand the same message to a second worker while the first is still writing.
@tenant_task(name="reports.generate", queue="low", soft_time_limit=540, time_limit=580)
def report_generate(*, schema_name: str, job_id: str, run_id: str) -> None:
    with job_services.job_running(job_id=job_id) as context:
        if context is None:
            return  # finished or cancelled already: a redelivered message
        run = services.report_run_generate(run_id=run_id, on_progress=context.progress)
        if run is not None:
            context.job.result = {
                "run_id": str(run.pk),
                "file_name": run.file_name,
                "size": run.size,
                "rows": run.row_count,
            }


@tenant_task(name="reports.cleanup", queue="low")
def report_cleanup(*, schema_name: str) -> int:
    """Daily, per tenant, through ``jobs.fanout`` (see CELERY_BEAT_SCHEDULE)."""
    return services.report_run_cleanup_expired()
