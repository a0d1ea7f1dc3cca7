"""Enqueue → task-start latency: the tenant-aware path against plain Celery.

    python -m bench.enqueue_latency        # (under `config.devstack test --`) prints a dict

One real worker (``celery -A config worker``, prefork, two processes, all three queues)
on a Redis database of its own serves both paths; the bench process sends one task at a
time and waits for it to start before sending the next, so each figure is latency, not
queueing. BENCH_ENQUEUE_N (default 300) tasks per path, interleaved (tenant, plain,
plain, tenant, ...), after 20 unmeasured warm-up tasks of each.

The tenant-aware path, in a throwaway tenant: ``transaction.atomic()`` around
``apps.jobs.dispatch.enqueue(task, ...)``, so the outbox row is inserted, the transaction
commits, and the after-commit hook claims the row, sends it (its id is the task id) and
marks it sent; in the worker, ``TenantTask`` checks that the tenant is active and enters
its schema before the body runs. The plain path: ``app.send_task(name, kwargs=...)`` of a
``shared_task``. The first thing either body does is push ``time.time()`` to a Redis
list, on which the bench process waits (BLPOP). Latency = that time minus the time just
before the enqueue call; both clocks are the same machine's.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import shared_task

from apps.jobs.base import tenant_task

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench_enqueue"
DOMAIN = "bench-enqueue.localhost"
BROKER_DB = 6
WARMUP = 20
WORKER = "bench-enqueue"
STARTS_KEY = "bench:enqueue_latency:starts"

_client: Any = None


def _redis() -> Any:
    global _client  # noqa: PLW0603 - one client per process, made on first use
    if _client is None:
        import redis
        from django.conf import settings

        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def _record_start(probe: str) -> None:
    _redis().rpush(STARTS_KEY, json.dumps({"probe": probe, "at": time.time()}))


@tenant_task(name="bench.enqueue_tenant")
def enqueue_tenant(*, schema_name: str, probe: str) -> None:
    _record_start(probe)


@shared_task(name="bench.enqueue_plain", ignore_result=True)
def enqueue_plain(*, probe: str) -> None:
    _record_start(probe)


def _samples() -> int:
    return int(os.environ.get("BENCH_ENQUEUE_N", "300"))


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] enqueue: {message}", flush=True)


def _broker_url() -> str:
    from config.celery import kombu_redis_url

    parts = urlsplit(os.environ["REDIS_URL"])
    if parts.scheme == "unix":
        return kombu_redis_url(urlunsplit(parts._replace(query=f"db={BROKER_DB}")))
    return urlunsplit(parts._replace(path=f"/{BROKER_DB}"))


def _reset_pools(app: Any) -> None:
    from kombu import pools

    pools.reset()
    app._pool = None  # noqa: SLF001 - Celery has no public way to drop its pools
    app.amqp._producer_pool = None  # noqa: SLF001


@contextmanager
def _app_on_broker(url: str) -> Iterator[Any]:
    from config.celery import app

    saved = app.conf.broker_url
    _reset_pools(app)
    app.conf.broker_url = url
    try:
        yield app
    finally:
        _reset_pools(app)
        app.conf.broker_url = saved


@contextmanager
def _worker(app: Any, broker_url: str) -> Iterator[None]:
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    env = {**os.environ, "CELERY_BROKER_URL": broker_url}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "high,default,low",
            "-c",
            "2",
            "--pool",
            "prefork",
            "-l",
            "warning",
            "-n",
            f"{WORKER}@bench",
            "-I",
            "bench.enqueue_latency",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[f"{WORKER}@bench"], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bench worker did not start")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _tenant_ensure() -> None:
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    _tenant_drop()
    tenant_create(
        schema_name=SCHEMA,
        name="Bench enqueue",
        domain=DOMAIN,
        admin_username="bench-admin",
        admin_password=None,
    )
    assert Tenant.objects.filter(schema_name=SCHEMA).exists()


def _tenant_drop() -> None:
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_hard_delete, tenant_soft_delete

    tenant = Tenant.objects.filter(schema_name=SCHEMA).first()
    if tenant is None:
        return
    if tenant.status != Tenant.Status.DELETED:
        tenant = tenant_soft_delete(tenant=tenant)
    tenant_hard_delete(tenant=tenant, confirm_schema_name=SCHEMA)


def _wait_start(probe: str) -> float:
    popped = _redis().blpop([STARTS_KEY], timeout=30)
    if popped is None:
        raise RuntimeError("a bench task did not start within 30 s")
    record = json.loads(popped[1])
    if record["probe"] != probe:
        raise RuntimeError(f"expected start of {probe}, got {record['probe']}")
    return record["at"]


def _send_tenant(app: Any) -> tuple[float, float]:
    from django.db import transaction

    from apps.core.tenancy import in_tenant
    from apps.jobs.dispatch import enqueue

    probe = uuid.uuid4().hex
    with in_tenant(SCHEMA):
        sent_at = time.time()
        with transaction.atomic():
            enqueue(enqueue_tenant, probe=probe)
        returned_at = time.time()
    return _wait_start(probe) - sent_at, returned_at - sent_at


def _send_plain(app: Any) -> tuple[float, float]:
    probe = uuid.uuid4().hex
    sent_at = time.time()
    app.send_task("bench.enqueue_plain", kwargs={"probe": probe})
    returned_at = time.time()
    return _wait_start(probe) - sent_at, returned_at - sent_at


def _percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


def run() -> dict[str, Any]:
    """Start a worker, measure both paths interleaved, stop it, drop the bench tenant."""
    samples = _samples()
    broker_url = _broker_url()
    senders: dict[str, Callable[[Any], tuple[float, float]]] = {
        "tenant": _send_tenant,
        "plain": _send_plain,
    }
    latency: dict[str, list[float]] = {name: [] for name in senders}
    call: dict[str, list[float]] = {name: [] for name in senders}
    _tenant_ensure()
    _log(f"tenant {SCHEMA} ready; starting the worker")
    try:
        with _app_on_broker(broker_url) as app:
            with app.connection_for_write() as connection:
                connection.default_channel.client.flushdb()
            _redis().delete(STARTS_KEY)
            with _worker(app, broker_url):
                for _ in range(WARMUP):
                    for send in senders.values():
                        send(app)
                _log(f"warm; measuring {samples} tasks per path")
                started = time.perf_counter()
                for number in range(samples):
                    order = ("tenant", "plain") if number % 2 == 0 else ("plain", "tenant")
                    for name in order:
                        seconds, call_seconds = senders[name](app)
                        latency[name].append(seconds)
                        call[name].append(call_seconds)
                elapsed = time.perf_counter() - started
            with app.connection_for_write() as connection:
                connection.default_channel.client.flushdb()
    finally:
        _tenant_drop()

    tenant, plain = _percentiles(latency["tenant"]), _percentiles(latency["plain"])
    return {
        "samples_per_path": samples,
        "warmup_per_path": WARMUP,
        "measured_seconds": round(elapsed, 1),
        "tenant": tenant,
        "plain": plain,
        "tenant_enqueue_call": _percentiles(call["tenant"]),
        "plain_enqueue_call": _percentiles(call["plain"]),
        "p50_overhead_ms": round(tenant["p50_ms"] - plain["p50_ms"], 2),
        "p50_ratio": round(tenant["p50_ms"] / plain["p50_ms"], 2),
        "p99_ratio": round(tenant["p99_ms"] / plain["p99_ms"], 2),
    }


def section() -> Any:
    """``run()`` in bench.run_all's table shape (Section and Row from bench.common)."""
    from bench.common import Row, Section

    result = run()
    samples = result["samples_per_path"]
    rows = [
        Row(
            benchmark=f"Enqueue → task start, {quantile}, {samples} tasks: outbox + TenantTask",
            figure=result["tenant"][f"{quantile}_ms"],
            baseline=result["plain"][f"{quantile}_ms"],
            unit="ms",
            better="lower",
            goal="reported (no goal set)",
            met=None,
            ratio=result[f"{quantile}_ratio"],
            ratio_label=f"{result[f'{quantile}_ratio']:.2f}x plain send_task",
        )
        for quantile in ("p50", "p99")
    ]
    return Section(
        title="Enqueue latency",
        rows=rows,
        how=" ".join((__doc__ or "").split("\n\n", 2)[2].split()),
        notes=[
            f"Tenant-aware p50 overhead over plain Celery: {result['p50_overhead_ms']} ms.",
            "Time for the enqueue call itself to return (p50 / p99): tenant-aware "
            f"{result['tenant_enqueue_call']['p50_ms']} / "
            f"{result['tenant_enqueue_call']['p99_ms']} ms (outbox insert, commit, claim, "
            f"send, mark sent); plain {result['plain_enqueue_call']['p50_ms']} / "
            f"{result['plain_enqueue_call']['p99_ms']} ms.",
            f"Means: tenant-aware {result['tenant']['mean_ms']} ms, plain "
            f"{result['plain']['mean_ms']} ms; maxima {result['tenant']['max_ms']} / "
            f"{result['plain']['max_ms']} ms.",
        ],
    )


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from apps.tenants.services import public_tenant_ensure

    call_command("migrate_tenants", verbosity=0)
    public_tenant_ensure(domain="localhost")
    print(json.dumps(run(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
