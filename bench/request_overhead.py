"""3. Request overhead of tenant routing, on a real server.

The app is served by uvicorn (one worker) twice at once: as configured
(``config.settings.test``: ``TenantRoutingMiddleware`` resolves the host through the
Redis-cached lookup and switches the schema on every request) and without tenant routing
(``bench.settings_plain``: the connection is pinned to the tenant's schema). A separate
load-generator process (:mod:`bench.loadgen`) sends authenticated
``GET /api/v1/users/`` to each in alternating rounds.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.common import (
    BENCH_PASSWORD,
    PYTHON,
    ROOT,
    Row,
    Section,
    child_env,
    free_port,
    log,
    median,
)
from config.devstack import uvicorn_command

SCHEMA = "benchhttp"
HOST = "benchhttp.localhost"
ADMIN = "benchadmin"
PASSWORD = BENCH_PASSWORD
SEEDED_USERS = 50
GOAL = 0.90


def _settings() -> tuple[int, float, float, int]:
    threads = int(os.environ.get("BENCH_HTTP_THREADS", "4"))
    seconds = float(os.environ.get("BENCH_HTTP_SECONDS", "6"))
    warmup = float(os.environ.get("BENCH_HTTP_WARMUP", "3"))
    rounds = int(os.environ.get("BENCH_HTTP_ROUNDS", "4"))
    return threads, seconds, warmup, rounds


def _cpu_seconds(pid: int) -> float:
    """User + system CPU the server process has used so far."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _seed() -> None:
    from apps.accounts.services import user_create
    from apps.core import tenancy
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    if not Tenant.objects.filter(schema_name=SCHEMA).exists():
        tenant_create(
            schema_name=SCHEMA,
            name="Bench HTTP",
            domain=HOST,
            admin_username=ADMIN,
            admin_password=PASSWORD,
        )
    with tenancy.in_tenant(SCHEMA):
        for index in range(SEEDED_USERS):
            user_create(
                actor=None,
                username=f"user{index:03d}",
                password=None,
                email=f"user{index:03d}@example.test",
                first_name="Bench",
                last_name=f"User {index}",
                roles=["staff"] if index % 2 else [],
            )


def _request(port: int, method: str, path: str, *, token: str = "", body: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": HOST, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


@contextmanager
def _server(settings_module: str, log_dir: Path, name: str, **extra_env: str):
    port = free_port()
    log_path = log_dir / f"{name}.log"
    env = child_env(DJANGO_SETTINGS_MODULE=settings_module, BENCH_PINNED_SCHEMA=SCHEMA, **extra_env)
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            uvicorn_command(port=port, python=PYTHON),
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} server exited:\n{log_path.read_text()[-3000:]}")
                try:
                    status, _, _ = _request(port, "GET", "/api/v1/health/")
                    if status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} server not ready:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield port, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _load(port: int, token: str, *, threads: int, seconds: float, requests: int | None = None):
    command = [
        PYTHON,
        "-m",
        "bench.loadgen",
        "--port",
        str(port),
        "--host",
        HOST,
        "--path",
        "/api/v1/users/",
        "--token",
        token,
        "--threads",
        str(threads),
        "--seconds",
        str(seconds),
    ]
    if requests is not None:
        command += ["--requests", str(requests)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _token(port: int) -> str:
    status, body, _ = _request(
        port, "POST", "/api/v1/auth/token/", body={"username": ADMIN, "password": PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"token request answered {status}: {body[:500]!r}")
    return json.loads(body)["access"]


def _db_sessions() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _redis_connections() -> int:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        return int(client.info("stats")["total_connections_received"])
    finally:
        client.close()


def _open_connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _count_run(log_dir: Path, token: str, base: str, requests: int = 40) -> dict:
    """Per-request costs, one request at a time, on an instrumented server."""
    with _server("bench.settings_count", log_dir, f"count-{base}", BENCH_BASE=base) as (port, _):
        _load(port, token, threads=1, seconds=0, requests=5)  # connection and caches warm
        sessions, redis_connections = _db_sessions(), _redis_connections()
        result = _load(port, token, threads=1, seconds=0, requests=requests)
        time.sleep(1.5)  # backends report their statistics at most once a second
        # Our own two probes above and below account for one Redis connection each.
        redis_connections = _redis_connections() - redis_connections - 1
        sessions = _db_sessions() - sessions
    done = max(result["ok"], 1)
    return {
        "set_search_path": result["headers"].get("x-bench-search-path-sets", 0) / done,
        "connects": result["headers"].get("x-bench-db-connects", 0) / done,
        "pg_sessions": sessions / done,
        "redis_connections": redis_connections / done,
        "requests": result["ok"],
    }


def run() -> Section:
    threads, seconds, warmup, rounds = _settings()
    _seed()
    log(f"requests: tenant {SCHEMA} with {SEEDED_USERS} seeded users (+ its admin)")
    notes: list[str] = []
    with ExitStack() as stack:
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tenantry-bench-")))
        servers = {
            "routed": stack.enter_context(_server("config.settings.test", log_dir, "routed")),
            "plain": stack.enter_context(_server("bench.settings_plain", log_dir, "plain")),
        }
        ports = {name: port for name, (port, _) in servers.items()}
        token = _token(ports["routed"])

        bodies = {}
        for name, port in ports.items():
            status, body, _ = _request(port, "GET", "/api/v1/users/", token=token)
            if status != 200:
                raise RuntimeError(f"{name}: GET /api/v1/users/ answered {status}: {body[:500]!r}")
            bodies[name] = json.loads(body)
        same = bodies["routed"] == bodies["plain"]
        count = len(bodies["routed"].get("results", []))
        log(f"requests: both servers answer 200 with {count} users per page; identical={same}")
        notes.append(f"Both servers answer 200 with {count} users per page; same body: {same}.")

        for port in ports.values():
            _load(port, token, threads=threads, seconds=warmup)

        results: dict[str, list[dict]] = {"routed": [], "plain": []}
        for round_number in range(rounds):
            order = ["routed", "plain"] if round_number % 2 == 0 else ["plain", "routed"]
            for name in order:
                port, pid = servers[name]
                cpu = _cpu_seconds(pid)
                result = _load(port, token, threads=threads, seconds=seconds)
                result["cpu_ms"] = (_cpu_seconds(pid) - cpu) * 1000 / max(result["ok"], 1)
                results[name].append(result)
                log(
                    f"requests: round {round_number + 1} {name}: "
                    f"{result['requests_per_s']:.0f} req/s, p50 {result['p50_ms']} ms, "
                    f"p99 {result['p99_ms']} ms, server CPU {result['cpu_ms']:.2f} ms/request, "
                    f"errors {result['errors']}"
                )
        open_connections = _open_connections()

        counts = {}
        try:
            for base in ("routed", "plain"):
                counts[base] = _count_run(log_dir, token, base)
        except (RuntimeError, subprocess.CalledProcessError) as error:
            notes.append(f"Counting run failed: {error}")

    routed_rps = median([r["requests_per_s"] for r in results["routed"]])
    plain_rps = median([r["requests_per_s"] for r in results["plain"]])
    ratio = routed_rps / plain_rps
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    routed_cpu = median([r["cpu_ms"] for r in results["routed"]])
    plain_cpu = median([r["cpu_ms"] for r in results["plain"]])
    rows = [
        Row(
            benchmark="GET /api/v1/users/ throughput with tenant routing",
            figure=routed_rps,
            baseline=plain_rps,
            unit="req/s",
            better="higher",
            goal=f">= {GOAL:.2f} of the baseline",
            met=ratio >= GOAL and errors == 0,
            ratio=ratio,
            ratio_label=f"{ratio:.2f}",
        ),
        Row(
            benchmark="Server CPU per request with tenant routing (less noisy)",
            figure=routed_cpu,
            baseline=plain_cpu,
            unit="ms",
            better="lower",
            goal="- (informational)",
            met=None,
            ratio=plain_cpu / routed_cpu,
            ratio_label=f"{plain_cpu / routed_cpu:.2f}",
        ),
    ]
    for name in ("routed", "plain"):
        runs = results[name]
        notes.append(
            f"{name} rounds: "
            + "; ".join(
                f"{r['requests_per_s']:.0f} req/s (p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                f"CPU {r['cpu_ms']:.2f} ms)"
                for r in runs
            )
        )
    notes.append(f"Non-200 answers or connection errors over all rounds: {errors}.")
    notes.append(
        "Connections to the database still open right after the last round (both servers, "
        f"pg_stat_activity, this process excluded): {open_connections}."
    )
    if counts:
        routed_sets = counts.get("routed", {}).get("set_search_path")
        plain_sets = counts.get("plain", {}).get("set_search_path")
        rows.append(
            Row(
                benchmark="`SET search_path` per request (routed)",
                figure=routed_sets,
                baseline=plain_sets,
                unit="",
                better="lower",
                goal="exactly 1 (asserted by tests/tenancy/test_search_path_count.py)",
                met=routed_sets == 1 if routed_sets is not None else None,
                ratio_label="-",
            )
        )
        for name, values in counts.items():
            notes.append(
                f"Counting run, {name}, per request: {values['set_search_path']:.2f} "
                f"`SET search_path`, {values['connects']:.2f} new database connections "
                f"(driver), {values['pg_sessions']:.2f} new PostgreSQL sessions "
                f"(pg_stat_database), {values['redis_connections']:.2f} new Redis connections "
                f"(INFO stats); {values['requests']} sequential requests after 5 unmeasured."
            )
    how = (
        f"Tenant `{SCHEMA}` (cloned) with {SEEDED_USERS} seeded users plus its admin; a "
        "Bearer token for the admin from `POST /api/v1/auth/token/`. Two uvicorn servers "
        "(`python -m uvicorn config.asgi:application`, one worker, uvloop/httptools, no "
        "access log) run side by side: *routed* with `config.settings.test`, *plain* with "
        "`bench.settings_plain`, where `bench.middleware.PinnedTenantMiddleware` replaces "
        "`TenantRoutingMiddleware` (tenant read once; schema switched only when the "
        "connection is not already in it). `python -m bench.loadgen` (http.client, "
        f"{threads} threads, one keep-alive connection each) sends `GET /api/v1/users/` "
        f"with `Host: {HOST}` (one page of 50 users). {warmup:g} s warm-up per server, then "
        f"{rounds} alternating rounds of {seconds:g} s; medians of requests/s. Ratio = "
        "routed / plain. Server CPU per request = user + system CPU of the uvicorn process "
        "over a round / requests answered (PostgreSQL's and Redis' CPU not included); ratio "
        "= plain / routed, so both ratios read the same way. `SET search_path` and new "
        "connections per request come from a separate, unmeasured run of each "
        "configuration with `bench.settings_count` "
        "(a driver-level cursor factory counts the statements; 40 sequential requests)."
    )
    return Section(title="Request overhead", rows=rows, how=how, notes=notes)
