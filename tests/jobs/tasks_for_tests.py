"""Tasks that only the tests' live workers load (``-I tests.jobs.tasks_for_tests``).

Each one records what it did in ``public.tests_jobs_effect``, a table the live fixtures
create and drop, so a test can count effects across processes: a real worker only
sees committed rows and the test only sees what the worker committed.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from celery import shared_task
from django.db import connection

from apps.core.tenancy import current_schema
from apps.jobs.base import tenant_task
from apps.jobs.models import JobRun
from apps.jobs.services import job_running

EFFECT_TABLE = "public.tests_jobs_effect"
EFFECT_TABLE_SQL = f"""
CREATE TABLE IF NOT EXISTS {EFFECT_TABLE} (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    key text NOT NULL DEFAULT '',
    schema_name text NOT NULL,
    pid integer NOT NULL,
    task_id text NOT NULL DEFAULT '',
    detail jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


def effect_record(*, kind: str, key: str = "", task_id: str = "", **detail: Any) -> None:
    """One committed row: what ran, in which schema, in which process."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EFFECT_TABLE} (kind, key, schema_name, pid, task_id, detail) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [kind, key, current_schema(), os.getpid(), task_id, json.dumps(detail, default=str)],
        )


@tenant_task(name="tests.jobs.record", bind=True)
def record(self, *, schema_name: str, key: str = "") -> None:
    effect_record(kind="record", key=key, task_id=self.request.id or "")


@tenant_task(name="tests.jobs.record_low", queue="low", bind=True)
def record_low(self, *, schema_name: str, key: str = "") -> None:
    effect_record(kind="low", key=key, task_id=self.request.id or "")


@tenant_task(name="tests.jobs.record_inline", inline_when_broker_down=True, bind=True)
def record_inline(self, *, schema_name: str, key: str = "") -> None:
    """May run in the requesting process when the broker is down."""
    effect_record(kind="inline", key=key, task_id=self.request.id or "")


@tenant_task(name="tests.jobs.fanout_probe", bind=True)
def fanout_probe(self, *, schema_name: str) -> None:
    """What ``jobs.fanout`` sends: only ``schema_name``. Records the message's ETA."""
    eta = self.request.eta
    effect_record(kind="fanout", task_id=self.request.id or "", eta=eta)


@tenant_task(name="tests.jobs.slow_job", bind=True)
def slow_job(
    self, *, schema_name: str, job_id: str, steps: int = 5, step_seconds: float = 0.1, key: str = ""
) -> None:
    """A job that sleeps in small steps and reports progress; its effect is the "done" row.

    ``job_running`` makes it at-most-once in effect: a redelivered message of a finished job
    does nothing. Every attempt that gets to run leaves a "started" row (with its pid, so a
    test can kill exactly the process running it).
    """
    with job_running(job_id=job_id) as job:
        if job is None:
            effect_record(kind="skipped", key=key, task_id=self.request.id or "")
            return
        status_seen = JobRun.objects.get(pk=job_id).status
        effect_record(
            kind="started",
            key=key,
            task_id=self.request.id or "",
            attempt=job.job.attempts,
            status_seen=status_seen,
        )
        for step in range(1, steps + 1):
            time.sleep(step_seconds)
            job.progress(step * 100 // steps)
        effect_record(kind="done", key=key, task_id=self.request.id or "", attempt=job.job.attempts)
        job.job.result = {"schema": current_schema(), "status_seen": status_seen}


@shared_task(name="tests.jobs.beat_tick", bind=True, ignore_result=True)
def beat_tick(self, *, key: str = "") -> None:
    """A platform task a PeriodicTask fires; runs in public, records each firing."""
    effect_record(kind="beat", key=key, task_id=self.request.id or "")
