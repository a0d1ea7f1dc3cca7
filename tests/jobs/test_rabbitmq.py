"""The same path over RabbitMQ (CELERY_BROKER_URL=amqp://...), once, where one listens.

The RabbitMQ on this machine is shared by every test run on it (its default vhost), so
this run's worker and sends use queues of their own (``high.<suffix>`` ...).
"""

from __future__ import annotations

import uuid

import pytest

from tests.jobs.live import (
    effects,
    job_finished,
    job_start,
    port_is_open,
    using_broker,
    using_isolated_queues,
    wait_until,
)

pytestmark = pytest.mark.slow

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture
def rabbitmq_url() -> str:
    if not port_is_open(5672):
        pytest.skip("No RabbitMQ listens on 127.0.0.1:5672 (the Redis path is tested instead)")
    return RABBITMQ_URL


def test_tenant_job_runs_end_to_end_over_rabbitmq(chaos_env, rabbitmq_url):
    schema_name = chaos_env.tenants[0]
    suffix = uuid.uuid4().hex[:10]
    with using_broker(rabbitmq_url), using_isolated_queues(suffix):
        worker = chaos_env.start_worker(
            f"rabbit-{suffix}", broker_url=rabbitmq_url, queue_suffix=suffix
        )

        job = job_start(schema_name, steps=2, step_seconds=0.05, key="rabbit")

        finished = wait_until(
            lambda: job_finished(schema_name, job.pk), timeout=30, what="the job over AMQP"
        )
    assert (finished.status, finished.progress, finished.attempts) == ("succeeded", 100, 1)
    assert finished.result == {"schema": schema_name, "status_seen": "running"}
    assert [row["schema_name"] for row in effects(kind="done", key="rabbit")] == [schema_name]
    log = worker.log_text()
    assert "Connected to amqp://guest:**@127.0.0.1:5672//" in log
    assert f".> default.{suffix}" in log
