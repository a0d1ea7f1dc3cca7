"""Chaos with real processes: a worker killed mid-task, a broker that goes away.

Each test starts its own worker on a broker of its own (a Redis database, or a
throwaway redis-server), so killing or starving it cannot disturb the other tests. Every
wait is bounded; nothing here asserts how fast anything is.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest

from tests.jobs.conftest import tenant_host
from tests.jobs.live import (
    RedisServer,
    effects,
    effects_wait,
    job_finished,
    job_get,
    job_start,
    outbox_for_job,
    using_broker,
    wait_until,
)

pytestmark = pytest.mark.slow

# Short enough that a dead worker's message comes back within the test, longer than
# one attempt of the jobs below (~1.5 s): Redis also redelivers a message that is still
# running once it is older than this.
VISIBILITY_TIMEOUT = {"TENANTRY_TEST_VISIBILITY_TIMEOUT": "5"}


def progress_at_least(schema_name: str, job_id, percent: int):
    job = job_get(schema_name, job_id)
    return job if job.progress >= percent else None


def test_worker_process_killed_mid_task_the_job_completes_exactly_once(chaos_env):
    from config.celery import app

    worker = chaos_env.start_worker("kill-child", **VISIBILITY_TIMEOUT)
    schema_name = chaos_env.tenants[0]

    job = job_start(schema_name, steps=10, step_seconds=0.15, key="kill-child")
    first = effects_wait(1, kind="started", key="kill-child", timeout=30)[0]
    assert first["pid"] in worker.children()
    wait_until(lambda: progress_at_least(schema_name, job.pk, 20), timeout=20, what="progress")
    os.kill(first["pid"], signal.SIGKILL)

    finished = wait_until(
        lambda: job_finished(schema_name, job.pk), timeout=45, what="the redelivered job"
    )
    assert (finished.status, finished.progress, finished.attempts) == ("succeeded", 100, 2)
    started = effects(kind="started", key="kill-child")
    assert [row["detail"]["attempt"] for row in started] == [1, 2]
    assert started[1]["pid"] != first["pid"]
    # The second attempt found the job still "running" (the first never finished it).
    assert started[1]["detail"]["status_seen"] == "running"
    assert len(effects(kind="done", key="kill-child")) == 1
    log = worker.log_text()
    assert "WorkerLostError" in log
    assert "signal 9 (SIGKILL)" in log

    # One more delivery of the same message (a broker's duplicate) does nothing.
    message = outbox_for_job(schema_name, job.pk)
    app.send_task("tests.jobs.slow_job", kwargs=message.kwargs, task_id=str(message.pk))
    effects_wait(1, kind="skipped", key="kill-child", timeout=30)
    assert len(effects(kind="done", key="kill-child")) == 1
    assert job_get(schema_name, job.pk).attempts == 2


def test_whole_worker_killed_its_message_comes_back_to_the_next_worker(chaos_env):
    first = chaos_env.start_worker("kill-all-a", **VISIBILITY_TIMEOUT)
    schema_name = chaos_env.tenants[0]

    job = job_start(schema_name, steps=10, step_seconds=0.15, key="kill-all")
    effects_wait(1, kind="started", key="kill-all", timeout=30)
    wait_until(lambda: progress_at_least(schema_name, job.pk, 20), timeout=20, what="progress")
    first.kill()  # kill -9 the main process and its pool: nobody rejects the message
    assert job_get(schema_name, job.pk).status == "running"
    chaos_env.start_worker("kill-all-b", **VISIBILITY_TIMEOUT)

    finished = wait_until(
        lambda: job_finished(schema_name, job.pk), timeout=45, what="the restored message's job"
    )
    assert (finished.status, finished.progress, finished.attempts) == ("succeeded", 100, 2)
    assert [row["detail"]["attempt"] for row in effects(kind="started", key="kill-all")] == [1, 2]
    assert len(effects(kind="done", key="kill-all")) == 1


def test_broker_down_requests_succeed_and_every_job_runs_once_it_is_back(
    chaos_env, settings, monkeypatch
):
    from rest_framework.test import APIClient

    from apps.core import tenancy
    from apps.jobs import dispatch
    from apps.jobs.models import OutboxMessage
    from tests.fixtures import access_token_for

    settings.ROOT_URLCONF = "tests.jobs.urls_live"
    schema_name = chaos_env.tenants[1]
    broker = RedisServer(log_dir=chaos_env.log_dir)
    broker.start()
    try:
        with using_broker(broker.url):
            worker = chaos_env.start_worker("outage", broker_url=broker.url)
            client = APIClient(HTTP_HOST=tenant_host(schema_name))
            client.credentials(
                HTTP_AUTHORIZATION=f"Bearer {access_token_for(schema_name, 'first-admin')}"
            )
            broker.stop()

            keys = [f"outage-{number}" for number in range(3)]
            responses = [
                client.post("/api/v1/tests/jobs/", {"key": key}, format="json") for key in keys
            ]

            assert [response.status_code for response in responses] == [201, 201, 201]
            job_ids = [response.json()["id"] for response in responses]
            with tenancy.in_tenant(schema_name):
                pending = list(
                    OutboxMessage.objects.filter(kwargs__job_id__in=job_ids, sent_at__isnull=True)
                )
            assert len(pending) == 3
            assert all(message.attempts == 1 and message.last_error for message in pending)
            assert [job_get(schema_name, job_id).status for job_id in job_ids] == ["queued"] * 3

            broker.start()  # same port: the worker reconnects on its own
            monkeypatch.setattr(dispatch, "RELAY_GRACE", timedelta(0))

            def relayed() -> bool:
                dispatch.relay_pending()
                with tenancy.in_tenant(schema_name):
                    return not OutboxMessage.objects.filter(
                        kwargs__job_id__in=job_ids, sent_at__isnull=True
                    ).exists()

            wait_until(relayed, timeout=30, interval=0.5, what="the relay to send the outbox")
            finished = [
                wait_until(
                    lambda job_id=job_id: job_finished(schema_name, job_id),
                    timeout=60,
                    interval=0.25,
                    what="the jobs after the outage",
                )
                for job_id in job_ids
            ]
            assert worker.is_alive()
    finally:
        chaos_env.stop_all()  # before the broker: a worker without one stops slowly
        broker.stop()

    assert [(job.status, job.attempts) for job in finished] == [("succeeded", 1)] * 3
    for key in keys:
        assert len(effects(kind="done", key=key)) == 1
