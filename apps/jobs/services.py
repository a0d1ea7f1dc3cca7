"""Job runs: create one with its task, move it through its states, report progress."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from celery import Task
from django.db import transaction
from django.utils import timezone

from apps.accounts.selectors import require_perm
from apps.core.errors import ApplicationError, PermissionDeniedError
from apps.core.types import Actor
from apps.jobs.dispatch import enqueue
from apps.jobs.errors import JobCancelledError, JobFinishedError, TransientError
from apps.jobs.models import JobRun
from apps.realtime.publish import publish_event

logger = logging.getLogger("tenantry.jobs")


def _publish(job: JobRun) -> None:
    if job.requested_by_id is None:
        return
    publish_event(
        event_type="job.updated",
        payload={
            "id": str(job.pk),
            "kind": job.kind,
            "status": job.status,
            "progress": job.progress,
            "result": job.result,
            "error_code": job.error_code,
        },
        user_ids=[job.requested_by_id],
    )


@transaction.atomic
def job_run_start(
    *,
    task: Task,
    kind: str,
    requested_by: Any = None,
    params: dict[str, Any] | None = None,
    label: str = "",
    **task_kwargs: Any,
) -> JobRun:
    """Record a queued job and enqueue ``task(job_id=..., **task_kwargs)`` with it, atomically."""
    job = JobRun.objects.create(
        kind=kind, label=label, params=params or {}, requested_by=requested_by
    )
    enqueue(task, job_id=str(job.pk), **task_kwargs)
    _publish(job)
    return job


@dataclass
class JobContext:
    job: JobRun

    def progress(self, percent: int) -> None:
        """Record progress; raises JobCancelledError when the job was cancelled meanwhile."""
        percent = max(0, min(100, int(percent)))
        updated = JobRun.objects.filter(pk=self.job.pk, status=JobRun.Status.RUNNING).update(
            progress=percent
        )
        if not updated:
            raise JobCancelledError(job_id=str(self.job.pk))
        self.job.progress = percent
        _publish(self.job)


@contextmanager
def job_running(*, job_id: str) -> Iterator[JobContext | None]:
    """Run a job's body at most once in effect.

    Yields None when there is nothing to do (finished, cancelled or unknown job: a
    redelivered message). On success the job is ``succeeded`` with the result the body
    put in ``context.job.result``; a transient error puts it back to ``queued`` and
    re-raises (Celery retries); any other error marks it ``failed`` with a code.
    """
    with transaction.atomic():
        job = JobRun.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            yield_none = True
        else:
            yield_none = False
            job.status = JobRun.Status.RUNNING
            job.started_at = job.started_at or timezone.now()
            job.attempts += 1
            job.save(update_fields=["status", "started_at", "attempts"])
            _publish(job)
    if yield_none:
        yield None
        return
    context = JobContext(job=job)
    try:
        yield context
    except JobCancelledError:
        logger.info("Job %s stopped: cancelled", job_id)
        return
    except TransientError:
        JobRun.objects.filter(pk=job_id, status=JobRun.Status.RUNNING).update(
            status=JobRun.Status.QUEUED
        )
        raise
    except ApplicationError as error:
        _finish(job, status=JobRun.Status.FAILED, code=error.code, message=error.message)
        raise
    except Exception as error:
        _finish(job, status=JobRun.Status.FAILED, code="internal_error", message=str(error)[:500])
        raise
    _finish(job, status=JobRun.Status.SUCCEEDED, result=job.result)


def _finish(
    job: JobRun, *, status: str, code: str = "", message: str = "", result: Any = None
) -> None:
    with transaction.atomic():
        updated = JobRun.objects.filter(pk=job.pk, status=JobRun.Status.RUNNING).update(
            status=status,
            progress=100 if status == JobRun.Status.SUCCEEDED else job.progress,
            finished_at=timezone.now(),
            error_code=code,
            error_message=message,
            result=result if result is not None else {},
        )
        if updated:
            job.refresh_from_db()
            _publish(job)


@transaction.atomic
def job_run_cancel(*, actor: Actor, job: JobRun) -> JobRun:
    """Cancel a queued or running job. Its task notices at its next progress report."""
    job = JobRun.objects.select_for_update().get(pk=job.pk)
    if job.requested_by_id != actor.user.pk:
        # Anyone may stop their own job; someone else's takes seeing and changing all jobs.
        if not actor.has_perm("jobs.oversee_jobs"):
            raise PermissionDeniedError()
        require_perm(actor, "jobs.change_jobrun")
    if job.is_finished:
        raise JobFinishedError(status=job.status)
    job.status = JobRun.Status.CANCELLED
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    _publish(job)
    return job
