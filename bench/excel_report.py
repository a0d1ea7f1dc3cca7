"""Excel reports: a million rows through apps.reports.excel against bare openpyxl.

    python -m bench.excel_report            # (under `config.devstack test --`) prints a dict

One table of BENCH_EXCEL_ROWS rows (default 1,000,000; id, two texts, a boolean, a
numeric and a timestamp) is built with ``generate_series`` in a throwaway schema. Each
measured run is its own process, so its peak memory is its own:

- *helper*: ``xlsx_write(rows=queryset_rows(queryset, ...))`` as a report generator
  calls it (formula/control-character scan per text cell, progress callback);
- *baseline*: a bare openpyxl write-only loop (``ws.append(row)``) over the same rows
  fetched the same way (``values_list(...).iterator(chunk_size=2000)``, a server-side
  cursor, in autocommit as the report task runs).

Throughput = rows / seconds of fetching and writing the workbook (process start and
Django setup excluded). Peak memory = the child's ``ru_maxrss`` from ``os.wait4`` (the
per-child form of ``getrusage(RUSAGE_CHILDREN)``). Goals: helper throughput >= 0.8 of the
baseline's, each peak <= 200 MB. BENCH_EXCEL_ROUNDS (default 1) rounds alternate helper and
baseline; the best round of each counts. openpyxl writes its XML through the pure-Python
et_xmlfile here (lxml is not installed), about 12,000 rows/s on one core, so one round of a
million rows takes a few minutes for the pair.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench_excel"
TABLE = "report_rows"
FIELDS = ("id", "username", "email", "is_active", "amount", "created")
CHUNK_SIZE = 2000
RATIO_GOAL = 0.8
PEAK_GOAL_MB = 200.0


def _rows_wanted() -> int:
    return int(os.environ.get("BENCH_EXCEL_ROWS", "1000000"))


def _rounds() -> int:
    return int(os.environ.get("BENCH_EXCEL_ROUNDS", "1"))


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] excel: {message}", flush=True)


# --- the table -------------------------------------------------------------------------------


def table_create(rows: int) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        cursor.execute(
            f"CREATE TABLE {SCHEMA}.{TABLE} AS "
            "SELECT g AS id, 'user-' || g AS username, 'user' || g || '@example.test' AS email, "
            "mod(g, 7) <> 0 AS is_active, mod(g, 100000) * 1.25::numeric(12, 2) AS amount, "
            "timestamp '2026-01-01' + g * interval '1 second' AS created "
            "FROM generate_series(1, %s) AS g",
            [rows],
        )
        cursor.execute(f"ALTER TABLE {SCHEMA}.{TABLE} ADD PRIMARY KEY (id)")
        cursor.execute(f"ANALYZE {SCHEMA}.{TABLE}")
    return time.perf_counter() - started


def table_drop() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


# --- the measured children -------------------------------------------------------------------


def _bench_model() -> Any:
    from django.db import models

    class BenchRow(models.Model):
        id = models.BigIntegerField(primary_key=True)
        username = models.TextField()
        email = models.TextField()
        is_active = models.BooleanField()
        amount = models.DecimalField(max_digits=12, decimal_places=2)
        created = models.DateTimeField()

        class Meta:
            app_label = "reports"
            managed = False
            # Quoted by Django as "bench_excel"."report_rows": a table outside any tenant.
            db_table = f'{SCHEMA}"."{TABLE}'

        def __str__(self) -> str:
            return self.username

    return BenchRow


def _write_helper(path: str, rows: int) -> int:
    from apps.reports.excel import Column, queryset_rows, xlsx_write

    queryset = _bench_model().objects.order_by("id")
    progress_calls = []
    return xlsx_write(
        path=path,
        sheet_title="Bench",
        columns=[Column(name, 16) for name in FIELDS],
        rows=queryset_rows(queryset, *FIELDS, chunk_size=CHUNK_SIZE),
        total=rows,
        on_progress=lambda done, total: progress_calls.append(done),
    )


def _write_baseline(path: str, rows: int) -> int:
    from openpyxl import Workbook

    queryset = _bench_model().objects.order_by("id")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Bench")
    sheet.append(list(FIELDS))
    written = 0
    for row in queryset.values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE):
        sheet.append(row)
        written += 1
    workbook.save(path)
    return written


def child(mode: str, path: str, rows: int) -> None:
    import resource

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from django.db import connection

    connection.ensure_connection()
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    write = _write_helper if mode == "helper" else _write_baseline
    started = time.perf_counter()
    written = write(path, rows)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "mode": mode,
                "rows": written,
                "seconds": seconds,
                "bytes": os.path.getsize(path),
                "rss_before_mb": rss_before_kb / 1024,
            }
        )
    )


def _measure(mode: str, rows: int, directory: str) -> dict[str, Any]:
    path = os.path.join(directory, f"{mode}.xlsx")
    env = {**os.environ}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.excel_report", "child", mode, path, str(rows)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{mode} child exited {process.returncode}:\n{stderr.decode()[-3000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    os.remove(path)
    return result


def run() -> dict[str, Any]:
    """Build the table, measure both writers in alternating rounds, drop the table."""
    rows = _rows_wanted()
    _log(f"building {rows:,} rows")
    build_seconds = table_create(rows)
    _log(f"table ready in {build_seconds:.1f}s")
    measured: dict[str, list[dict[str, Any]]] = {"helper": [], "baseline": []}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-excel-") as directory:
            for round_number in range(1, _rounds() + 1):
                for mode in ("helper", "baseline"):
                    result = _measure(mode, rows, directory)
                    measured[mode].append(result)
                    _log(
                        f"round {round_number} {mode}: {result['seconds']:.1f}s, "
                        f"{rows / result['seconds']:,.0f} rows/s, peak {result['peak_mb']:.0f} MB"
                    )
    finally:
        table_drop()

    best = {mode: min(results, key=lambda r: r["seconds"]) for mode, results in measured.items()}
    helper, baseline = best["helper"], best["baseline"]
    ratio = baseline["seconds"] / helper["seconds"]
    peaks = {mode: max(r["peak_mb"] for r in results) for mode, results in measured.items()}
    return {
        "rows": rows,
        "rounds": _rounds(),
        "table_build_seconds": round(build_seconds, 2),
        "helper_seconds": round(helper["seconds"], 2),
        "baseline_seconds": round(baseline["seconds"], 2),
        "helper_rows_per_second": round(rows / helper["seconds"]),
        "baseline_rows_per_second": round(rows / baseline["seconds"]),
        "throughput_ratio": round(ratio, 3),
        "helper_peak_mb": round(peaks["helper"], 1),
        "baseline_peak_mb": round(peaks["baseline"], 1),
        "process_rss_before_writing_mb": round(helper["rss_before_mb"], 1),
        "helper_file_mb": round(helper["bytes"] / 1024 / 1024, 1),
        "baseline_file_mb": round(baseline["bytes"] / 1024 / 1024, 1),
        "all_seconds": {
            mode: [round(r["seconds"], 2) for r in results] for mode, results in measured.items()
        },
        "ratio_goal": RATIO_GOAL,
        "peak_goal_mb": PEAK_GOAL_MB,
        "ratio_met": ratio >= RATIO_GOAL,
        "peak_met": max(peaks.values()) <= PEAK_GOAL_MB,
    }


def section() -> Any:
    """``run()`` in bench.run_all's table shape (Section and Row from bench.common)."""
    from bench.common import Row, Section

    result = run()
    rows = result["rows"]
    return Section(
        title="Excel report",
        rows=[
            Row(
                benchmark=f"Excel report, {rows:,} rows: throughput through apps.reports.excel",
                figure=result["helper_rows_per_second"],
                baseline=result["baseline_rows_per_second"],
                unit="rows/s",
                better="higher",
                goal=f">= {RATIO_GOAL:g} of bare openpyxl write-only",
                met=result["ratio_met"],
                ratio=result["throughput_ratio"],
                ratio_label=f"{result['throughput_ratio']:.2f}",
            ),
            Row(
                benchmark=f"Excel report, {rows:,} rows: peak memory of the process",
                figure=result["helper_peak_mb"],
                baseline=result["baseline_peak_mb"],
                unit="MB",
                better="lower",
                goal=f"<= {PEAK_GOAL_MB:g} MB",
                met=result["peak_met"],
            ),
        ],
        # The module docstring from its third paragraph (after the title and the command).
        how=" ".join((__doc__ or "").split("\n\n")[2:]).strip().replace("\n", " "),
        notes=[
            f"Round times (s): helper {result['all_seconds']['helper']}, "
            f"baseline {result['all_seconds']['baseline']}.",
            f"RSS of a child after Django setup, before writing: "
            f"{result['process_rss_before_writing_mb']} MB; workbook "
            f"{result['helper_file_mb']} MB.",
            f"Table built with generate_series in {result['table_build_seconds']} s.",
        ],
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["child"]:
        child(argv[1], argv[2], int(argv[3]))
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    print(json.dumps(run(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
