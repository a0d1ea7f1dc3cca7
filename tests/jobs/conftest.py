"""Live-worker fixtures: a real ``celery worker`` against the embedded Redis.

Tests here do not use pytest-django's rolled-back transaction (a worker is another
process and only sees committed rows) and never ``transaction=True`` (it would truncate
the session's tenants). ``db`` is overridden below to mean committed access; tests write
into two throwaway tenants created for this package and read task effects from
``public.tests_jobs_effect``; the package's teardown drops both.

Time: the package runs in about 70 s (one worker for the package; chaos tests start
their own workers, beats and a redis-server).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.jobs import live

TENANT_ONE = "jobs_live_one"
TENANT_TWO = "jobs_live_two"
LIVE_TENANTS = (TENANT_ONE, TENANT_TWO)
# Redis databases of the package's brokers (0 is the cache, wiped after every test).
MAIN_BROKER_DB = 4
CHAOS_BROKER_DB = 5
BROKER_DBS_PER_XDIST_WORKER = 2


def tenant_host(schema_name: str) -> str:
    return f"{schema_name.replace('_', '-')}.localhost"


def _tenants_drop(schema_names: tuple[str, ...]) -> None:
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_hard_delete, tenant_soft_delete

    for tenant in Tenant.objects.filter(schema_name__in=schema_names):
        if tenant.status != Tenant.Status.DELETED:
            tenant = tenant_soft_delete(tenant=tenant)
        tenant_hard_delete(tenant=tenant, confirm_schema_name=tenant.schema_name)


@pytest.fixture
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """In this package ``db`` is committed access, not pytest-django's rolled-back
    transaction: a real worker only sees committed rows. The name matters too:
    pytest-django creates the test database only for a run whose tests use ``db``."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="package")
def live_tenants(test_tenants, django_db_blocker) -> Iterator[tuple[str, str]]:
    """Two committed business tenants, cloned like production's, dropped afterwards."""
    from apps.tenants.services import tenant_create
    from tests.personas import PASSWORD

    with django_db_blocker.unblock():
        _tenants_drop(LIVE_TENANTS)  # left over by a killed run of a reused database
        for schema_name in LIVE_TENANTS:
            tenant_create(
                schema_name=schema_name,
                name=f"Live {schema_name}",
                domain=tenant_host(schema_name),
                admin_username="first-admin",
                admin_password=PASSWORD,
            )
    yield LIVE_TENANTS
    with django_db_blocker.unblock():
        _tenants_drop(LIVE_TENANTS)


@pytest.fixture(scope="package")
def effect_table(test_tenants, django_db_blocker) -> Iterator[str]:
    from django.db import connection

    from tests.jobs.tasks_for_tests import EFFECT_TABLE, EFFECT_TABLE_SQL

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(EFFECT_TABLE_SQL)
    yield EFFECT_TABLE
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EFFECT_TABLE}")


@pytest.fixture(scope="package")
def live_log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("live-logs")


def broker_db(slot: int) -> int:
    return slot + BROKER_DBS_PER_XDIST_WORKER * live.xdist_offset()


@pytest.fixture(scope="package")
def main_broker_url() -> str:
    return live.redis_broker_url(broker_db(MAIN_BROKER_DB))


@pytest.fixture(scope="package")
def chaos_broker_url() -> str:
    return live.redis_broker_url(broker_db(CHAOS_BROKER_DB))


def _broker_flush(url: str) -> None:
    """Empty a test broker's Redis database (queues, bindings, unacked messages)."""
    import redis

    from config.celery import app

    with app.connection_for_write(url) as connection:
        client: redis.Redis = connection.default_channel.client
        client.flushdb()


@pytest.fixture(scope="package")
def live_worker(
    live_tenants, effect_table, main_broker_url, live_log_dir, django_db_blocker
) -> Iterator[live.LiveProcess]:
    """One real worker (prefork, two processes, queues high/default/low) for the package."""
    with django_db_blocker.unblock():
        _broker_flush(main_broker_url)
        worker = live.start_worker("main", broker_url=main_broker_url, log_dir=live_log_dir)
    yield worker
    worker.stop()


@dataclass
class Live:
    broker_url: str
    worker: live.LiveProcess | None
    tenants: tuple[str, str]
    log_dir: Path
    started: list[live.LiveProcess] = field(default_factory=list)

    def start_worker(
        self, name: str, *, broker_url: str | None = None, queue_suffix: str = "", **options: str
    ) -> live.LiveProcess:
        """A worker of this test's own (on its broker unless told); stopped when it ends."""
        worker = live.start_worker(
            name,
            broker_url=broker_url or self.broker_url,
            log_dir=self.log_dir,
            queue_suffix=queue_suffix,
            **options,
        )
        self.started.append(worker)
        return worker

    def spawn(self, name: str, command: list[str], **env: str) -> live.LiveProcess:
        process = live.spawn(name, command, log_dir=self.log_dir, env=live.child_env(**env))
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            process.terminate()  # all at once: each takes a few seconds to shut down
        while self.started:
            self.started.pop().stop(timeout=10)


@pytest.fixture
def live_env(db, live_worker, main_broker_url, live_tenants, live_log_dir):
    """A live test: committed writes allowed, the app sends to the live worker's broker,
    the effect table starts empty."""
    with live.using_broker(main_broker_url):
        live.effects_clear()
        env = Live(
            broker_url=main_broker_url,
            worker=live_worker,
            tenants=live_tenants,
            log_dir=live_log_dir,
        )
        try:
            yield env
        finally:
            env.stop_all()


@pytest.fixture
def chaos_env(db, live_tenants, effect_table, chaos_broker_url, live_log_dir):
    """Like ``live_env`` but without a worker: the test starts (and kills) its own, on a
    broker database of its own, emptied before and after."""
    _broker_flush(chaos_broker_url)
    with live.using_broker(chaos_broker_url):
        live.effects_clear()
        env = Live(
            broker_url=chaos_broker_url, worker=None, tenants=live_tenants, log_dir=live_log_dir
        )
        try:
            yield env
        finally:
            env.stop_all()
    _broker_flush(chaos_broker_url)
