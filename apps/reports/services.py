"""Report runs: start one (a job), write its file in the worker, remove expired ones."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.selectors import actor_for_user, require_perm
from apps.core.errors import PermissionDeniedError
from apps.core.types import Actor
from apps.jobs.models import JobRun
from apps.jobs.services import job_run_start
from apps.reports import registry, tasks  # module import: tasks.py imports services back
from apps.reports.errors import ReportParametersInvalidError, UnknownReportError
from apps.reports.models import ReportRun

logger = logging.getLogger("tenantry.reports")

DEFAULT_RETENTION_DAYS = 7
JOB_KIND = "report"


def retention_days() -> int:
    return int(getattr(settings, "TENANTRY_REPORT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def _directory(run_id: Any) -> str:
    return f"reports/{run_id}"


@transaction.atomic
def report_run_start(*, actor: Actor, report: registry.Report, params: dict[str, Any]) -> ReportRun:
    """Record a run of ``report`` and queue the job that writes its file.

    ``params`` are the report's validated parameters in their JSON form (the parameter
    serializer's ``.data``); the worker validates them again before it runs. Raises
    PermissionDeniedError without the report's permission. The run expires (and
    ``reports.cleanup`` removes it) TENANTRY_REPORT_RETENTION_DAYS after now.
    """
    require_perm(actor, report.permission)
    run_id = uuid.uuid4()
    job = job_run_start(
        task=tasks.report_generate,
        kind=JOB_KIND,
        requested_by=actor.user,
        params={"report": report.name, "params": params},
        label=report.title,
        run_id=str(run_id),
    )
    now = timezone.now()
    return ReportRun.objects.create(
        id=run_id,
        name=report.name,
        title=report.title,
        format=report.format,
        params=params,
        job=job,
        created_by=actor.user,
        created_at=now,
        expires_at=now + timedelta(days=retention_days()),
    )


class _Percent:
    """Turns (rows done, rows in total) into whole percents, reported when they change.

    99 at most: 100 means the file is stored, which the job's success records.
    """

    def __init__(self, report_percent: Callable[[int], None]) -> None:
        self.report_percent = report_percent
        self.last = -1

    def __call__(self, done: int, total: int | None) -> None:
        if not total:
            return
        percent = min(99, done * 100 // total)
        if percent != self.last:
            self.last = percent
            self.report_percent(percent)


def _parameters(report: registry.Report, stored: dict[str, Any]) -> dict[str, Any]:
    parameters = report.parameters(data=stored)
    if not parameters.is_valid():
        raise ReportParametersInvalidError(errors=parameters.errors)
    return dict(parameters.validated_data)


def _storage_clear(directory: str) -> None:
    """Delete the files of ``directory`` in the tenant's storage, then the directory."""
    _, files = default_storage.listdir(directory)
    for name in files:
        default_storage.delete(f"{directory}/{name}")
    # Not a local storage, already gone, or not empty: nothing to tidy then.
    with contextlib.suppress(NotImplementedError, OSError):
        os.rmdir(default_storage.path(directory))


def report_run_generate(
    *, run_id: Any, on_progress: Callable[[int], None] = lambda percent: None
) -> ReportRun | None:
    """Write the run's file into the tenant's storage (``reports/<run id>/<file name>``).

    Idempotent: returns None when the run is gone and the run unchanged when it already
    has its file (a redelivered task); leftovers of an interrupted attempt are removed
    first. The generator runs as the user who asked, whose permission is checked again
    (PermissionDeniedError when it was revoked or the user deactivated meanwhile).
    Whatever ``on_progress`` raises (JobCancelledError) stops the file: nothing is stored.
    """
    run = ReportRun.objects.select_related("created_by").filter(pk=run_id).first()
    if run is None:
        return None
    if run.has_file:
        return run
    report = registry.report_lookup(run.name)
    if report is None:
        raise UnknownReportError(name=run.name)
    if run.created_by is None or not run.created_by.is_active:
        raise PermissionDeniedError(permission=report.permission)
    actor = actor_for_user(user=run.created_by)
    require_perm(actor, report.permission)
    params = _parameters(report, run.params)

    directory = _directory(run.pk)
    _storage_clear(directory)
    file_name = f"{report.name}-{run.created_at:%Y%m%d-%H%M%S}.{report.format}"
    with tempfile.TemporaryDirectory(prefix="tenantry-report-") as scratch:
        path = Path(scratch) / file_name
        output = registry.ReportOutput(path=path, progress=_Percent(on_progress))
        row_count = report.generate(actor=actor, params=params, output=output)
        size = path.stat().st_size
        with path.open("rb") as handle:
            stored = default_storage.save(f"{directory}/{file_name}", File(handle, name=file_name))
    run.file, run.file_name, run.size, run.row_count = stored, file_name, size, row_count
    run.save(update_fields=["file", "file_name", "size", "row_count"])
    logger.info("Report %s run %s: %d rows, %d bytes", run.name, run.pk, row_count, size)
    return run


def report_run_cleanup_expired(*, now: Any = None) -> int:
    """Delete runs past ``expires_at``, files first, then rows; returns how many went.

    Idempotent. A run whose job is still queued or running is left for a later pass,
    unless it expired more than a day ago (a job that will never finish).
    """
    now = now or timezone.now()
    expired = ReportRun.objects.filter(expires_at__lte=now).filter(
        Q(job__status__in=JobRun.FINISHED) | Q(expires_at__lte=now - timedelta(days=1))
    )
    deleted = 0
    for run_id in list(expired.values_list("pk", flat=True)):
        # A file is never left without its row: the row goes only after the file.
        _storage_clear(_directory(run_id))
        ReportRun.objects.filter(pk=run_id).delete()
        deleted += 1
    if deleted:
        logger.info("Removed %d expired report run(s)", deleted)
    return deleted
