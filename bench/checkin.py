"""Check-in throughput through the API, against the plain list endpoint on the same server.

One uvicorn (``config.settings.test``, tenant routing on) serves a tenant with the hr
module and BENCH_CHECKIN_EMPLOYEES employees (default 48), each with a user, a Bearer
token and an allowed work location. A load process (this module with ``--load``) runs
BENCH_HTTP_THREADS threads; each owns its own employees and sends, back to back,
``POST /api/v1/hr/attendance/check-in/`` then ``.../check-out/`` with coordinates inside
the fence, moving to its next employee after each pair. The baseline is
``GET /api/v1/users/`` (one page of 50 users, :mod:`bench.loadgen`) with the admin's
token on the same server, in alternating rounds. Ratio = punches/s over list requests/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import BENCH_PASSWORD, PYTHON, ROOT, Row, Section, log, median
from bench.request_overhead import _load, _server, _settings

SCHEMA = "benchhr"
HOST = "benchhr.localhost"
ADMIN = "benchhradmin"
AT_OFFICE = {"latitude": 51.5137, "longitude": -0.0904, "accuracy_m": 10}


def _employees_wanted() -> int:
    import os

    return int(os.environ.get("BENCH_CHECKIN_EMPLOYEES", "48"))


def _seed(count: int) -> tuple[str, list[str]]:
    """The tenant, its employees and their tokens (idempotent); (admin token, tokens)."""
    from datetime import date
    from decimal import Decimal

    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import User
    from apps.accounts.services import user_create
    from apps.core import tenancy
    from apps.hr.models import AttendanceRecord, Employee, WorkLocation
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    if not Tenant.objects.filter(schema_name=SCHEMA).exists():
        tenant_create(
            schema_name=SCHEMA,
            name="Bench HR",
            domain=HOST,
            admin_username=ADMIN,
            admin_password=BENCH_PASSWORD,
            modules=["hr"],
        )

    def token(user: User) -> str:
        refresh = RefreshToken.for_user(user)
        refresh["tenant"] = SCHEMA
        return str(refresh.access_token)

    with tenancy.in_tenant(SCHEMA):
        office, _ = WorkLocation.objects.get_or_create(
            name="Bench office",
            defaults={
                "latitude": Decimal("51.513600"),
                "longitude": Decimal("-0.090300"),
                "radius_m": 120,
                "time_zone": "Europe/London",
            },
        )
        tokens = []
        for index in range(count):
            username = f"punch{index:03d}"
            user = User.objects.filter(username=username).first() or user_create(
                actor=None, username=username, password=None, roles=["staff"]
            )
            employee, _ = Employee.objects.get_or_create(
                employee_number=f"B{index:04d}",
                defaults={
                    "first_name": "Bench",
                    "last_name": f"Puncher {index}",
                    "employment_start": date(2024, 1, 1),
                    "work_time_zone": "Europe/London",
                    "user": user,
                },
            )
            employee.allowed_locations.set([office])
            tokens.append(token(user))
        # Earlier runs' rows would only slow the first requests down.
        AttendanceRecord.objects.all().delete()
        return token(User.objects.get(username=ADMIN)), tokens


# --- the load process ----------------------------------------------------------------------


def _worker(port: int, tokens: list[str], deadline: list[float], barrier, out: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps(AT_OFFICE)
    punches = errors = 0
    statuses: dict[int, int] = {}

    def post(path: str, token: str) -> int:
        nonlocal connection
        headers = {
            "Host": HOST,
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
        }
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            return 0
        statuses[response.status] = statuses.get(response.status, 0) + 1
        return response.status

    barrier.wait()
    index = 0
    while time.perf_counter() < deadline[0]:
        token = tokens[index % len(tokens)]
        index += 1
        for path, expected in (
            ("/api/v1/hr/attendance/check-in/", 201),
            ("/api/v1/hr/attendance/check-out/", 200),
        ):
            if post(path, token) == expected:
                punches += 1
            else:
                errors += 1
    connection.close()
    out.append((punches, errors, statuses))


def _load_main(args: argparse.Namespace) -> None:
    tokens = json.loads(Path(args.tokens).read_text())
    threads = args.threads
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]
    out: list = []
    workers = [
        threading.Thread(
            target=_worker, args=(args.port, tokens[i::threads], deadline, barrier, out)
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    started = time.perf_counter()
    deadline[0] = started + args.seconds
    barrier.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    punches = sum(item[0] for item in out)
    statuses: dict[str, int] = {}
    for item in out:
        for code, count in item[2].items():
            statuses[str(code)] = statuses.get(str(code), 0) + count
    print(
        json.dumps(
            {
                "punches": punches,
                "errors": sum(item[1] for item in out),
                "seconds": round(elapsed, 3),
                "punches_per_s": round(punches / elapsed, 1),
                "statuses": statuses,
            }
        )
    )


def _punch_load(port: int, tokens_path: Path, *, threads: int, seconds: float) -> dict:
    command = [
        PYTHON,
        "-m",
        "bench.checkin",
        "--load",
        "--port",
        str(port),
        "--tokens",
        str(tokens_path),
        "--threads",
        str(threads),
        "--seconds",
        str(seconds),
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the benchmark -------------------------------------------------------------------------


def run() -> Section:
    import bench.request_overhead as overhead

    threads, seconds, warmup, rounds = _settings()
    count = max(_employees_wanted(), threads)
    admin_token, tokens = _seed(count)
    log(f"checkin: tenant {SCHEMA} with {count} employees, {threads} threads")
    results: dict[str, list[dict]] = {"checkin": [], "list": []}
    with ExitStack() as stack:
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tenantry-bench-")))
        tokens_path = log_dir / "tokens.json"
        tokens_path.write_text(json.dumps(tokens))
        # request_overhead's helpers address its own tenant's host; point them at ours.
        previous_host = overhead.HOST
        overhead.HOST = HOST
        stack.callback(setattr, overhead, "HOST", previous_host)
        port, _ = stack.enter_context(_server("config.settings.test", log_dir, "checkin"))

        _punch_load(port, tokens_path, threads=threads, seconds=warmup)
        _load(port, admin_token, threads=threads, seconds=warmup)
        for round_number in range(rounds):
            order = ["checkin", "list"] if round_number % 2 == 0 else ["list", "checkin"]
            for name in order:
                if name == "checkin":
                    result = _punch_load(port, tokens_path, threads=threads, seconds=seconds)
                    result["per_s"] = result["punches_per_s"]
                else:
                    result = _load(port, admin_token, threads=threads, seconds=seconds)
                    result["per_s"] = result["requests_per_s"]
                results[name].append(result)
                log(
                    f"checkin: round {round_number + 1} {name}: {result['per_s']:.0f}/s, "
                    f"errors {result['errors']}"
                )

    punch_rate = median([r["per_s"] for r in results["checkin"]])
    list_rate = median([r["per_s"] for r in results["list"]])
    ratio = punch_rate / list_rate
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    rows = [
        Row(
            benchmark="Check-in/check-out punches through the API",
            figure=punch_rate,
            baseline=list_rate,
            unit="req/s",
            better="higher",
            goal="- (informational; baseline GET /api/v1/users/)",
            met=None,
            ratio=ratio,
            ratio_label=f"{ratio:.2f}",
        )
    ]
    notes = [
        "check-in rounds: "
        + "; ".join(f"{r['per_s']:.0f} punches/s ({r['statuses']})" for r in results["checkin"]),
        "list rounds: " + "; ".join(f"{r['per_s']:.0f} req/s" for r in results["list"]),
        f"Failed or unexpected answers over all rounds: {errors}.",
    ]
    how = (
        f"Tenant `{SCHEMA}` (cloned, hr module on) with {count} employees, each with a user, "
        "a Bearer token and one allowed work location. One uvicorn (`config.settings.test`, "
        f"tenant routing, one worker). `python -m bench.checkin --load` ({threads} threads, "
        "one keep-alive connection each, disjoint employees) sends check-in then check-out "
        "inside the geofence, cycling through its employees; each punch validates the "
        "coordinates, checks the fence, resolves the roster in the employee's time zone, "
        "writes the record and its audit-log entry. Baseline: `python -m bench.loadgen` "
        "`GET /api/v1/users/` (a page of 50) with the admin's token on the same server. "
        f"{warmup:g} s warm-up each, {rounds} alternating rounds of {seconds:g} s; medians. "
        "Ratio = punches/s / list requests/s."
    )
    return Section(title="Check-in throughput", rows=rows, how=how, notes=notes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6.0)
    _load_main(parser.parse_args())
