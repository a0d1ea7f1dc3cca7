"""Reading ingestion through the API, against raw psycopg COPY into the same table.

    python -m bench.pipeline_ingest          # alone (DATABASE_URL, REDIS_URL set)

One uvicorn (``config.settings.test``, tenant routing on, one worker) serves tenant
``benchpipe`` (pipeline module) with one device, its key and BENCH_INGEST_SENSORS sensors
(default 50). A load process (this module with ``--load``) sends BENCH_INGEST_BATCHES
batches (default 40) of 5,000 readings (100 instants x 50 sensors) with
``Authorization: DeviceKey ...`` from BENCH_HTTP_THREADS threads over keep-alive
connections; the bodies are built before the clock starts, every batch has a new id and
new instants. Each batch is authenticated, parsed, validated reading by reading against
the tenant's sensors, recorded as an IngestBatch and COPYed into ``pipeline_reading``.
Baseline: the same number of readings, already Python tuples, COPYed by psycopg
(``write_row``) into the same partitioned table from one connection, a transaction per
5,000 like the API. Alternating rounds, medians. Ratio = API readings/s over COPY
readings/s; goal >= 0.5.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import BENCH_PASSWORD, PYTHON, ROOT, Row, Section, log, median

SCHEMA = "benchpipe"
HOST = "benchpipe.localhost"
ADMIN = "benchpipeadmin"
PATH = "/api/v1/pipeline/ingest/"
INSTANTS_PER_BATCH = 100
GOAL = 0.5


def _config() -> tuple[int, int, int, int]:
    sensors = int(os.environ.get("BENCH_INGEST_SENSORS", "50"))
    batches = int(os.environ.get("BENCH_INGEST_BATCHES", "40"))
    threads = int(os.environ.get("BENCH_HTTP_THREADS", "4"))
    rounds = int(os.environ.get("BENCH_HTTP_ROUNDS", "4"))
    return sensors, batches, threads, rounds


def _seed(sensor_count: int) -> tuple[str, list[str], list[str]]:
    """The tenant, its network and a fresh device key; (raw key, sensor codes, sensor ids).
    Readings and batches of earlier runs are removed."""
    from django.db import connection

    from apps.core import tenancy
    from apps.pipeline.models import Asset, Device, IngestBatch, Sensor, Zone
    from apps.pipeline.services.ingestion import device_key_rotate, reading_partitions_ensure
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    if not Tenant.objects.filter(schema_name=SCHEMA).exists():
        tenant_create(
            schema_name=SCHEMA,
            name="Bench pipeline",
            domain=HOST,
            admin_username=ADMIN,
            admin_password=BENCH_PASSWORD,
            modules=["pipeline"],
        )
    with tenancy.in_tenant(SCHEMA):
        zone, _ = Zone.objects.get_or_create(code="BENCH", defaults={"name": "Bench network"})
        asset, _ = Asset.objects.get_or_create(
            code="BENCH-MAIN",
            defaults={
                "name": "Bench main",
                "kind": Asset.Kind.PIPE_SEGMENT,
                "zone": zone,
                "latitude": 52.37,
                "longitude": 4.89,
            },
        )
        device, _ = Device.objects.get_or_create(
            code="BENCH-LOGGER", defaults={"name": "Bench logger", "asset": asset}
        )
        sensors = []
        for index in range(sensor_count):
            sensor, _ = Sensor.objects.get_or_create(
                code=f"BENCH-FLOW-{index:03d}",
                defaults={
                    "asset": asset,
                    "zone": zone,
                    "device": device,
                    "kind": Sensor.Kind.FLOW,
                    "unit": "m3/h",
                    "valid_min": 0.0,
                    "valid_max": 1000.0,
                },
            )
            sensors.append(sensor)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE pipeline_reading")
        IngestBatch.objects.all().delete()
        _, raw_key = device_key_rotate(actor=None, device=device, grace_hours=0)
        # Partitions for the whole window the run writes into (the ingest path would also
        # create them; made here so neither side pays for them).
        now = datetime.now(UTC)
        reading_partitions_ensure(months=[now - timedelta(days=3), now])
        return (
            raw_key,
            [sensor.code for sensor in sensors],
            [str(sensor.pk) for sensor in sensors],
        )


def _instants(base: float, slot: int) -> list[datetime]:
    """The 100 instants of batch ``slot``: one second apart, going back from ``base``."""
    first = slot * INSTANTS_PER_BATCH
    return [
        datetime.fromtimestamp(base - first - index, tz=UTC) for index in range(INSTANTS_PER_BATCH)
    ]


# --- the load process ----------------------------------------------------------------------


def _bodies(codes: list[str], base: float, first_slot: int, count: int) -> list[bytes]:
    bodies = []
    for slot in range(first_slot, first_slot + count):
        readings = [
            {"sensor": code, "at": at.isoformat(), "value": round(10 + (slot + i) % 500 * 0.37, 3)}
            for at in _instants(base, slot)
            for i, code in enumerate(codes)
        ]
        body = {"batch_id": f"bench-{slot}-{uuid.uuid4().hex[:8]}", "readings": readings}
        bodies.append(json.dumps(body).encode())
    return bodies


def _load_main(args: argparse.Namespace) -> None:
    codes = json.loads(Path(args.codes).read_text())
    bodies = _bodies(codes, args.base, args.first_slot, args.batches)
    threads = args.threads
    barrier = threading.Barrier(threads + 1)
    out: list = []
    headers = {
        "Host": args.host,
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Authorization": f"DeviceKey {args.key}",
    }

    def worker(share: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        accepted = errors = 0
        statuses: dict[str, int] = {}
        barrier.wait()
        for body in share:
            try:
                connection.request("POST", PATH, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
                continue
            statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
            if response.status == 201:
                accepted += json.loads(payload)["accepted"]
            else:
                errors += 1
        connection.close()
        out.append((accepted, errors, statuses))

    workers = [threading.Thread(target=worker, args=(bodies[i::threads],)) for i in range(threads)]
    for thread in workers:
        thread.start()
    started = time.perf_counter()
    barrier.wait()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    accepted = sum(item[0] for item in out)
    statuses: dict[str, int] = {}
    for item in out:
        for code, count in item[2].items():
            statuses[code] = statuses.get(code, 0) + count
    print(
        json.dumps(
            {
                "readings": accepted,
                "errors": sum(item[1] for item in out),
                "seconds": round(elapsed, 3),
                "per_s": round(accepted / elapsed, 1),
                "statuses": statuses,
            }
        )
    )


def _api_round(
    port: int, key: str, codes_path: Path, base: float, first_slot: int, batches: int, threads: int
) -> dict:
    command = [
        PYTHON,
        "-m",
        "bench.pipeline_ingest",
        "--load",
        "--port",
        str(port),
        "--host",
        HOST,
        "--key",
        key,
        "--codes",
        str(codes_path),
        "--base",
        repr(base),
        "--first-slot",
        str(first_slot),
        "--batches",
        str(batches),
        "--threads",
        str(threads),
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the baseline ----------------------------------------------------------------------------


def _copy_round(sensor_ids: list[str], base: float, first_slot: int, batches: int) -> dict:
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    batches_rows = []
    sensors = [uuid.UUID(sensor_id) for sensor_id in sensor_ids]
    for slot in range(first_slot, first_slot + batches):
        batch_id = uuid.uuid4()
        batches_rows.append(
            [
                (sensor, at, round(10 + (slot + i) % 500 * 0.37, 3), batch_id)
                for at in _instants(base, slot)
                for i, sensor in enumerate(sensors)
            ]
        )
    with psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"],
        password=database["PASSWORD"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
    ) as connection:
        connection.execute(f"SET search_path = {SCHEMA}, public")
        connection.commit()
        started = time.perf_counter()
        for rows in batches_rows:
            with (
                connection.transaction(),
                connection.cursor() as cursor,
                cursor.copy(
                    "COPY pipeline_reading (sensor_id, recorded_at, value, batch_id) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        elapsed = time.perf_counter() - started
    readings = sum(len(rows) for rows in batches_rows)
    return {"readings": readings, "seconds": round(elapsed, 3), "per_s": readings / elapsed}


# --- the benchmark -------------------------------------------------------------------------


def run() -> Section:
    import bench.request_overhead as overhead

    sensor_count, batches, threads, rounds = _config()
    raw_key, codes, sensor_ids = _seed(sensor_count)
    # One batch = INSTANTS_PER_BATCH instants x the sensors: 5,000 readings at 50 sensors.
    per_batch = INSTANTS_PER_BATCH * sensor_count
    log(
        f"pipeline_ingest: tenant {SCHEMA}, {sensor_count} sensors, {batches} batches of "
        f"{per_batch:,} readings per round, {threads} threads"
    )
    base = time.time() - 60
    next_slot = 0
    results: dict[str, list[dict]] = {"api": [], "copy": []}
    with ExitStack() as stack:
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tenantry-bench-")))
        codes_path = log_dir / "codes.json"
        codes_path.write_text(json.dumps(codes))
        previous_host = overhead.HOST
        overhead.HOST = HOST
        stack.callback(setattr, overhead, "HOST", previous_host)
        port, _ = stack.enter_context(overhead._server("config.settings.test", log_dir, "ingest"))

        # Warm-up: a few batches each way (connections, caches, the first partition hit).
        warm = max(2, batches // 8)
        _api_round(port, raw_key, codes_path, base, next_slot, warm, threads)
        next_slot += warm
        _copy_round(sensor_ids, base, next_slot, warm)
        next_slot += warm
        for round_number in range(rounds):
            order = ["api", "copy"] if round_number % 2 == 0 else ["copy", "api"]
            for name in order:
                if name == "api":
                    result = _api_round(
                        port, raw_key, codes_path, base, next_slot, batches, threads
                    )
                else:
                    result = _copy_round(sensor_ids, base, next_slot, batches)
                next_slot += batches
                results[name].append(result)
                log(
                    f"pipeline_ingest: round {round_number + 1} {name}: "
                    f"{result['per_s']:,.0f} readings/s ({result['readings']:,} in "
                    f"{result['seconds']:.2f} s)"
                    + (f", statuses {result['statuses']}" if name == "api" else "")
                )

    api_rate = median([r["per_s"] for r in results["api"]])
    copy_rate = median([r["per_s"] for r in results["copy"]])
    ratio = api_rate / copy_rate
    errors = sum(r.get("errors", 0) for r in results["api"])
    rows = [
        Row(
            benchmark=f"Readings ingested through the API ({per_batch:,} per batch) "
            "vs raw psycopg COPY",
            figure=api_rate,
            baseline=copy_rate,
            unit="readings/s",
            better="higher",
            goal=f">= {GOAL:g}x the COPY rate",
            met=ratio >= GOAL,
            ratio=ratio,
            ratio_label=f"{ratio:.2f}",
        )
    ]
    notes = [
        "API rounds: "
        + "; ".join(f"{r['per_s']:,.0f}/s ({r['statuses']})" for r in results["api"]),
        "COPY rounds: " + "; ".join(f"{r['per_s']:,.0f}/s" for r in results["copy"]),
        f"Failed or unexpected answers over all API rounds: {errors}.",
    ]
    how = " ".join((__doc__ or "").split("\n\n")[2:]).strip().replace("\n", " ")
    return Section(title="Pipeline ingestion throughput", rows=rows, how=how, notes=notes)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from apps.tenants.services import public_tenant_ensure

    call_command("migrate_tenants", verbosity=0)
    public_tenant_ensure(domain="localhost")
    section = run()
    for row in section.rows:
        print(row)
    for note in section.notes:
        print(note)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--port", type=int)
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--key")
    parser.add_argument("--codes")
    parser.add_argument("--base", type=float)
    parser.add_argument("--first-slot", type=int, default=0)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--threads", type=int, default=4)
    parsed = parser.parse_args()
    if parsed.load:
        _load_main(parsed)
    else:
        raise SystemExit(main())
