"""Tenant tasks in a real Celery worker (prefork, embedded Redis): schema, refusal, fan-out."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from tests.jobs.live import (
    effects,
    effects_wait,
    job_finished,
    job_get,
    job_start,
    outbox_for_job,
    wait_until,
)

pytestmark = pytest.mark.slow


def test_job_requested_through_the_outbox_runs_in_its_tenant(live_env):
    schema_name, _ = live_env.tenants

    job = job_start(schema_name, steps=4, step_seconds=0.05, key="happy")

    assert job.status == "queued"
    message = outbox_for_job(schema_name, job.pk)
    assert message.sent_at is not None
    assert message.kwargs == {
        "schema_name": schema_name,
        "job_id": str(job.pk),
        "steps": 4,
        "step_seconds": 0.05,
        "key": "happy",
    }
    finished = wait_until(
        lambda: job_finished(schema_name, job.pk), timeout=30, what="the job to finish"
    )
    assert finished.status == "succeeded"
    assert finished.progress == 100
    assert finished.attempts == 1
    assert finished.started_at is not None
    assert finished.finished_at is not None
    assert finished.result == {"schema": schema_name, "status_seen": "running"}
    started = effects(kind="started", key="happy")
    done = effects(kind="done", key="happy")
    assert [(row["schema_name"], row["task_id"]) for row in started] == [
        (schema_name, str(message.pk))
    ]
    assert [row["schema_name"] for row in done] == [schema_name]


def test_task_without_a_tenant_is_refused_by_the_worker(live_env):
    from config.celery import app

    task_id = f"no-tenant-{uuid.uuid4()}"
    public_task_id = f"public-{uuid.uuid4()}"

    app.send_task("tests.jobs.record", kwargs={}, task_id=task_id)
    app.send_task(
        "tests.jobs.record", kwargs={"schema_name": "public", "key": "p"}, task_id=public_task_id
    )
    marker = f"ok-{uuid.uuid4()}"
    app.send_task("tests.jobs.record", kwargs={"schema_name": live_env.tenants[0], "key": marker})

    # Sent last on the same queue: once it ran, the refused ones were handled too.
    wait_until(lambda: effects(key=marker), timeout=30, what="the tenant task after them")
    log = live_env.worker.wait_for_log(f"[{public_task_id}] raised unexpected", timeout=10)
    assert "Refused task tests.jobs.record: no tenant (schema_name=None" in log
    assert "Refused task tests.jobs.record: no tenant (schema_name='public'" in log
    assert f"tests.jobs.record[{task_id}] raised unexpected: TenantContextMissingError" in log
    assert f"[{public_task_id}] raised unexpected: TenantContextMissingError" in log
    assert [row["schema_name"] for row in effects(kind="record")] == [live_env.tenants[0]]


def test_task_for_one_tenant_never_touches_the_other(live_env):
    one, two = live_env.tenants
    job_in_two = job_start(two, steps=1, step_seconds=0, key="two")
    wait_until(lambda: job_finished(two, job_in_two.pk), timeout=30, what="two's job")
    two_before = job_get(two, job_in_two.pk)

    job_in_one = job_start(one, steps=2, step_seconds=0.05, key="one")
    wait_until(lambda: job_finished(one, job_in_one.pk), timeout=30, what="one's job")

    assert [row["schema_name"] for row in effects(key="one")] == [one, one]
    assert job_get(one, job_in_one.pk).result["schema"] == one
    two_after = job_get(two, job_in_two.pk)
    assert (two_after.status, two_after.attempts, two_after.finished_at) == (
        two_before.status,
        two_before.attempts,
        two_before.finished_at,
    )
    from apps.core import tenancy
    from apps.jobs.models import JobRun

    with tenancy.in_tenant(two):
        assert not JobRun.objects.filter(pk=job_in_one.pk).exists()
    with tenancy.in_tenant(one):
        assert not JobRun.objects.filter(pk=job_in_two.pk).exists()


def test_fanout_sends_one_task_per_active_tenant_with_deterministic_countdowns(live_env):
    from apps.core import tenancy
    from apps.jobs.tasks import fanout, fanout_delay
    from apps.tenants.selectors import tenant_list_business

    window = 3
    with tenancy.in_public():
        active = sorted(tenant_list_business(status="active").values_list("schema_name", flat=True))
    assert set(live_env.tenants) <= set(active)

    fanout.apply_async(kwargs={"task_name": "tests.jobs.fanout_probe", "window_seconds": window})

    rows = effects_wait(len(active), kind="fanout", timeout=30)
    assert sorted(row["schema_name"] for row in rows) == active
    # Each message's ETA is the fan-out's clock plus that tenant's fixed delay: minus the
    # delay, every ETA is the same instant (give or take the loop's own duration).
    delays = {
        schema: fanout_delay(
            schema_name=schema, task_name="tests.jobs.fanout_probe", window_seconds=window
        )
        for schema in active
    }
    assert all(0 <= delay < window for delay in delays.values())
    # Celery gives a countdown of 0 no ETA at all.
    assert all(row["detail"]["eta"] is not None for row in rows if delays[row["schema_name"]])
    origins = [
        datetime.fromisoformat(row["detail"]["eta"]).timestamp() - delays[row["schema_name"]]
        for row in rows
        if row["detail"]["eta"] is not None
    ]
    assert max(origins) - min(origins) < 1.0
