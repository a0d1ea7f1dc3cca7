"""Run every benchmark and rewrite docs/benchmarks.md.

    make bench        # embedded PostgreSQL + Redis, then `python -m bench.run_all`

Environment: BENCH_TENANTS (default 200) tenants for the no-op deploy;
BENCH_HTTP_THREADS (4), BENCH_HTTP_SECONDS (6), BENCH_HTTP_ROUNDS (4), BENCH_HTTP_WARMUP (3)
for the request benchmark; BENCH_ONLY=provisioning,requests,... (names as in BENCHMARKS)
runs a subset (the document is rewritten with only those). A benchmark never asserts: a
missed goal is reported, not raised. The exit status is 1 only when a benchmark could not
run at all.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable

from bench.common import ROOT, Row, Section, fmt, log

DOC = ROOT / "docs" / "benchmarks.md"
COMMAND = (
    "DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m config.devstack test "
    "-- .venv/bin/python -m bench.run_all"
)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from apps.tenants.services import public_tenant_ensure

    started = time.perf_counter()
    call_command("migrate_tenants", verbosity=0)
    public_tenant_ensure(domain="localhost")
    log(f"setup: migrated public in {time.perf_counter() - started:.1f}s")


def _machine() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0]
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 0
    memory = "unknown"
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):  # noqa: SIM115
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import django

    return {
        "nproc": str(affinity),
        "CPU": cpu,
        "Memory": memory,
        "PostgreSQL": pg_version,
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "OS": platform.platform(),
    }


def _password_hash_note() -> str:
    """Provisioning hashes the first admin's password; the bench uses the test hasher."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    started = time.perf_counter()
    hasher.encode("bench-password-1", hasher.salt())
    seconds = time.perf_counter() - started
    return (
        "The bench runs with `config.settings.test`, whose MD5 hasher makes the first admin's "
        f"password free. Production's default PBKDF2 ({hasher.iterations:,} iterations) took "
        f"{seconds:.3f} s for one hash on this machine, which a real `tenant_create` adds to "
        "both methods."
    )


BENCHMARKS: dict[str, Callable[[], Section]] = {}


def _load_benchmarks() -> None:
    from bench import (
        checkin,
        deploy,
        enqueue_latency,
        excel_report,
        payroll,
        pipeline_escalation,
        pipeline_ingest,
        pipeline_nearest_team,
        provisioning,
        realtime_fanout,
        request_overhead,
    )

    BENCHMARKS.update(
        {
            "provisioning": provisioning.run,
            "requests": request_overhead.run,
            "deploy": deploy.run,
            "excel": excel_report.section,
            "enqueue": enqueue_latency.section,
            "realtime": realtime_fanout.section,
            "payroll": payroll.section,
            "checkin": checkin.run,
            "pipeline_ingest": pipeline_ingest.run,
            "pipeline_escalation": pipeline_escalation.section,
            "pipeline_nearest_team": pipeline_nearest_team.section,
        }
    )


def _met(row: Row) -> str:
    if row.met is None:
        return "n/a"
    return "yes" if row.met else "**no**"


def _print_sections(sections: list[Section]) -> None:
    print()
    print(f"{'benchmark':58} {'figure':>14} {'baseline':>14} {'ratio':>14} met?")
    for section in sections:
        for row in section.rows:
            print(
                f"{row.benchmark[:58]:58} {fmt(row.figure, row.unit):>14} "
                f"{fmt(row.baseline, row.unit):>14} {row.ratio_label:>14} {_met(row)}"
            )
    print()


def _document(sections: list[Section], machine: dict[str, str], extra: dict[str, str]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run_all.py`); do not edit by hand, run it again.",
        "Each figure is measured next to its baseline in the same run on the same machine.",
        "",
        "| Benchmark | Figure | Baseline | Ratio | Goal | Met? |",
        "|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {row.benchmark} | {fmt(row.figure, row.unit)} | "
        f"{fmt(row.baseline, row.unit)} | {row.ratio_label or '-'} | {row.goal} | {_met(row)} |"
        for section in sections
        for row in section.rows
    )
    lines += [
        "",
        "## Run",
        "",
        "```",
        "make bench",
        f"# = {COMMAND}",
        "```",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in extra.items()]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    for section in sections:
        lines += ["", f"## {section.title}", "", "How measured: " + section.how, ""]
        lines += [f"- {note}" for note in section.notes]
    lines.append("")
    return "\n".join(lines)


def _load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> int:
    started = time.perf_counter()
    load_at_start = _load_average()
    _setup()
    _load_benchmarks()
    wanted = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
    names = [name for name in BENCHMARKS if not wanted or name in wanted]
    sections: list[Section] = []
    crashed = []
    for name in names:
        log(f"{name}: start")
        try:
            section = BENCHMARKS[name]()
        except Exception as error:  # noqa: BLE001 - reported in the document, run continues
            crashed.append(name)
            traceback.print_exc()
            section = Section(
                title=name,
                rows=[
                    Row(
                        benchmark=name,
                        figure=None,
                        baseline=None,
                        unit="",
                        better="",
                        goal="-",
                        met=None,
                        ratio_label="could not run",
                    )
                ],
                how="The benchmark raised before it could report.",
                notes=[f"`{type(error).__name__}: {error}`"],
            )
        if name == "provisioning":
            section.notes.append(_password_hash_note())
        sections.append(section)
        log(f"{name}: done")

    machine = _machine()
    extra = {
        "Date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "BENCH_TENANTS": os.environ.get("BENCH_TENANTS", "200"),
        "Benchmarks run": ", ".join(names),
        "Whole run": f"{time.perf_counter() - started:.0f} s",
        "Load average 1/5/15 min, at start and at end (other work on the machine)": (
            f"{load_at_start}; {_load_average()}"
        ),
    }
    _print_sections(sections)
    for key, value in {**extra, **machine}.items():
        print(f"{key}: {value}")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(_document(sections, machine, extra), encoding="utf-8")
    log(f"wrote {DOC.relative_to(ROOT)}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
