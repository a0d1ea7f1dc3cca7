from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.jobs.models import JobRun


def job_run_list(*, actor: Actor) -> QuerySet[JobRun]:
    """The actor's own jobs; every job for those allowed to see all."""
    jobs = JobRun.objects.select_related("requested_by")
    if actor.has_perm("jobs.oversee_jobs"):
        return jobs
    return jobs.filter(requested_by=actor.user)


def job_run_get(*, actor: Actor, job_id: object) -> JobRun:
    job = job_run_list(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise NotFoundError()
    return job
