"""2. No-op deploy over N tenants: ``migrate_tenants`` against ``migrate_schemas``.

Both commands run as ``python manage.py ...`` subprocesses, so each figure includes
interpreter start and ``django.setup()``. Nothing is due: every schema is current, which is
what most deploys look like for the database.
"""

from __future__ import annotations

import os
import re
import subprocess
import time

from bench.common import PYTHON, ROOT, Row, Section, child_env, log, median, run_manage

GOAL = 20.0
FAST_RUNS = 3
SLOW_RUNS = 1
CLONE_SECONDS: list[float] = []


def tenant_count() -> int:
    return int(os.environ.get("BENCH_TENANTS", "200"))


def _ensure_tenants(count: int) -> int:
    """Clone business tenants until there are ``count`` of them; returns how many were made."""
    from django.db import connection

    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    existing = Tenant.objects.filter(kind=Tenant.Kind.BUSINESS).count()
    made = 0
    started = time.perf_counter()
    for index in range(count - existing):
        schema_name = f"bench_deploy_{index:04d}"
        # A new connection per tenant, as separate admin requests would have: one long
        # session slows down with every clone (see the provisioning benchmark).
        connection.close()
        clone_started = time.perf_counter()
        tenant_create(
            schema_name=schema_name,
            name=f"Deploy {index}",
            domain=f"{schema_name.replace('_', '-')}.bench.localhost",
            admin_username="admin",
            admin_password=None,
        )
        CLONE_SECONDS.append(time.perf_counter() - clone_started)
        made += 1
        if made % 50 == 0:
            log(f"deploy: cloned {made} tenants ({time.perf_counter() - started:.0f}s)")
    return made


def _startup_seconds() -> float:
    """Wall clock of a process that only starts Python and runs ``django.setup()``: the
    part of every ``manage.py`` command that no command can avoid."""
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [PYTHON, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=child_env(),
        check=True,
    )
    return time.perf_counter() - started


def _summary(output: str) -> str:
    match = re.search(r"(\d+) schemas: (\d+) migrated, (\d+) already current, (\d+) failed", output)
    return match.group(0) if match else "(no summary line)"


def run() -> Section:
    from apps.tenants.models import Tenant

    wanted = tenant_count()
    made = _ensure_tenants(wanted)
    business = Tenant.objects.filter(kind=Tenant.Kind.BUSINESS).count()
    schemas = Tenant.objects.exclude(kind=Tenant.Kind.PUBLIC).count()
    log(f"deploy: {business} business tenants ({made} cloned now), {schemas} tenant schemas")

    # Make sure nothing is due before timing anything (and prove it from the output).
    check_seconds, first = run_manage(["migrate_tenants"])
    log(f"deploy: check run: {_summary(first)}")

    fast = []
    for _ in range(FAST_RUNS):
        seconds, output = run_manage(["migrate_tenants"])
        fast.append(seconds)
    log("deploy: migrate_tenants runs " + ", ".join(f"{s:.2f}s" for s in fast))
    startup = [_startup_seconds() for _ in range(FAST_RUNS)]
    log("deploy: python + django.setup() alone " + ", ".join(f"{s:.2f}s" for s in startup))
    fast_summary = _summary(output)

    baselines: dict[str, list[float]] = {}
    failures: dict[str, str] = {}
    for executor in ("standard", "multiprocessing"):
        runs = []
        for _ in range(SLOW_RUNS):
            try:
                seconds, _output = run_manage(
                    ["migrate_schemas", f"--executor={executor}", "--noinput"]
                )
            except RuntimeError as error:
                failures[executor] = str(error).splitlines()[0]
                log(f"deploy: migrate_schemas --executor={executor} failed: {failures[executor]}")
                break
            runs.append(seconds)
            log(f"deploy: migrate_schemas --executor={executor}: {seconds:.1f}s")
        if runs:
            baselines[executor] = runs

    fast_s = median(fast)
    rows = []
    for executor in ("standard", "multiprocessing"):
        if executor not in baselines:
            rows.append(
                Row(
                    benchmark=f"No-op deploy, {business} tenants (vs migrate_schemas {executor})",
                    figure=fast_s,
                    baseline=None,
                    unit="s",
                    better="lower",
                    goal=f">= {GOAL:g}x faster",
                    met=None,
                    ratio_label="baseline failed",
                )
            )
            continue
        slow_s = median(baselines[executor])
        speedup = slow_s / fast_s
        rows.append(
            Row(
                benchmark=f"No-op deploy, {business} tenants (vs migrate_schemas, {executor})",
                figure=fast_s,
                baseline=slow_s,
                unit="s",
                better="lower",
                goal=f">= {GOAL:g}x faster",
                met=speedup >= GOAL,
                ratio=speedup,
                ratio_label=f"{speedup:.1f}x faster",
            )
        )
    how = (
        f"{business} business tenants cloned from the template ({schemas} tenant schemas "
        "with the template, plus public). Figure: `python manage.py migrate_tenants` as a "
        f"subprocess, median of {FAST_RUNS} runs after one unmeasured check run. Baseline: "
        "`python manage.py migrate_schemas --noinput` (django-tenants' own command: public, "
        f"then every tenant schema) with `--executor=standard` and "
        f"`--executor=multiprocessing` (TENANT_MULTIPROCESSING_MAX_PROCESSES default), "
        f"{SLOW_RUNS} run each. Wall clock includes process start and `django.setup()` for "
        "both. Nothing is due in any run."
    )
    notes = []
    if len(CLONE_SECONDS) >= 40:
        notes.append(
            f"Building the data: {len(CLONE_SECONDS)} clones, median "
            f"{median(CLONE_SECONDS[:20]):.3f} s for the first 20 and "
            f"{median(CLONE_SECONDS[-20:]):.3f} s for the last 20 (new connection each)."
        )
    notes += [
        f"Unmeasured check run ({check_seconds:.1f} s) said: `{_summary(first)}` (anything "
        "migrated there means the code gained migrations after the tenants were cloned).",
        "migrate_tenants runs (s): " + ", ".join(f"{s:.2f}" for s in fast),
        f"migrate_tenants said: `{fast_summary}`",
        'Of that, starting Python and `django.setup()` alone (`python -c "import django; '
        f'django.setup()"`, same settings, median of {FAST_RUNS}): {median(startup):.2f} s '
        "(runs: " + ", ".join(f"{s:.2f}" for s in startup) + "). The rest is the command: "
        "one query for public's and one for all tenant schemas' applied-migration "
        "fingerprints, compared with the migration files' names. When nothing is due it "
        "migrates nothing and so skips the system checks, which `migrate` runs before "
        "migrating.",
    ]
    for executor, runs in baselines.items():
        notes.append(f"migrate_schemas {executor} runs (s): " + ", ".join(f"{s:.1f}" for s in runs))
    for executor, message in failures.items():
        notes.append(f"migrate_schemas {executor} failed: {message}")
    return Section(title="No-op deploy", rows=rows, how=how, notes=notes)
