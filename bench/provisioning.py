"""1. Provisioning: ``tenant_create(method="clone")`` against ``method="migrate"``.

Each run creates a whole tenant (schema, primary domain, built-in roles, first admin) in
this process, exactly as the operator admin does. One unmeasured run of each method comes
first, so neither pays for loading the migration graph or installing clone_schema().
"""

from __future__ import annotations

import time

from bench.common import BENCH_PASSWORD, Row, Section, log, median

CLONE_RUNS = 5
MIGRATE_RUNS = 3
CLONE_GOAL_SECONDS = 1.0
SPEEDUP_GOAL = 10.0
SAME_SESSION_RUNS = 10
COPY_RUNS = 5
COPY_METHODS = ("script", "clone_schema")


def _backend_rss() -> str:
    """Resident memory of this process's PostgreSQL backend (same machine), or "?"."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _create(schema_name: str, method: str, *, new_connection: bool = True) -> float:
    from django.db import connection

    from apps.tenants.services import tenant_create

    if new_connection:
        # As in the operator admin under ASGI, where every request opens its own connection.
        connection.close()
    started = time.perf_counter()
    tenant_create(
        schema_name=schema_name,
        name=f"Bench {schema_name}",
        domain=f"{schema_name.replace('_', '-')}.bench.localhost",
        admin_username="admin",
        admin_password=BENCH_PASSWORD,
        method=method,
    )
    return time.perf_counter() - started


def _copy_schema(target: str, how: str) -> float:
    """Only the schema copy, on a new connection: the batch script or django-tenants'
    ``clone_schema()`` (what ``tenant_create`` used before), each in its transaction."""
    from django.db import connection, transaction

    from apps.core import tenancy
    from apps.tenants import migrations_state
    from apps.tenants.schema_clone import schema_clone
    from apps.tenants.services import template_schema_name

    connection.close()
    started = time.perf_counter()
    with transaction.atomic():
        if how == "script":
            schema_clone(
                source=template_schema_name(),
                target=target,
                state=migrations_state.code_fingerprint(),
            )
        else:
            tenancy.clone_schema(source=template_schema_name(), target=target)
    return time.perf_counter() - started


def _copy_comparison() -> dict[str, list[float]]:
    from apps.core import tenancy

    for how in COPY_METHODS:  # unmeasured: installs clone_schema(), reads the template
        _copy_schema(f"bench_copy_{how}_warm", how)
    runs: dict[str, list[float]] = {how: [] for how in COPY_METHODS}
    for index in range(COPY_RUNS):
        for how in COPY_METHODS:
            runs[how].append(_copy_schema(f"bench_copy_{how}_{index}", how))
    for how in COPY_METHODS:
        for suffix in ["warm", *range(COPY_RUNS)]:
            tenancy.drop_schema(f"bench_copy_{how}_{suffix}")
    return runs


def run() -> Section:
    from apps.tenants.services import template_ensure

    started = time.perf_counter()
    template_ensure()
    log(f"provisioning: template ready in {time.perf_counter() - started:.1f}s")

    _create("bench_prov_clone_warm", "clone")
    _create("bench_prov_migrate_warm", "migrate")
    clone = [_create(f"bench_prov_clone_{i}", "clone") for i in range(CLONE_RUNS)]
    log("provisioning: clone runs " + ", ".join(f"{s:.3f}s" for s in clone))
    migrate = [_create(f"bench_prov_migrate_{i}", "migrate") for i in range(MIGRATE_RUNS)]
    log("provisioning: migrate runs " + ", ".join(f"{s:.3f}s" for s in migrate))

    # The same clone repeated in one long-lived session (a script or worker provisioning
    # many tenants in a row), to show how the session itself ages.
    same_session = [
        _create(f"bench_prov_session_{i}", "clone", new_connection=False)
        for i in range(SAME_SESSION_RUNS)
    ]
    log("provisioning: clones in one session " + ", ".join(f"{s:.3f}s" for s in same_session))
    backend_rss = _backend_rss()
    copies = _copy_comparison()
    log(
        "provisioning: schema copy alone: "
        + "; ".join(
            f"{how} " + ", ".join(f"{s:.3f}s" for s in runs) for how, runs in copies.items()
        )
    )

    clone_s, migrate_s = median(clone), median(migrate)
    speedup = migrate_s / clone_s
    row = Row(
        benchmark="Provision a tenant (clone from template)",
        figure=clone_s,
        baseline=migrate_s,
        unit="s",
        better="lower",
        goal=f"clone <= {CLONE_GOAL_SECONDS:g} s and >= {SPEEDUP_GOAL:g}x faster than migrate",
        met=clone_s <= CLONE_GOAL_SECONDS and speedup >= SPEEDUP_GOAL,
        ratio=speedup,
        ratio_label=f"{speedup:.1f}x faster",
    )
    rows = [
        row,
        Row(
            benchmark=f"Clone, {SAME_SESSION_RUNS}th in a row on one DB connection",
            figure=same_session[-1],
            baseline=same_session[0],
            unit="s",
            better="lower",
            goal="- (informational; baseline = 1st in that session)",
            met=None,
            ratio=same_session[-1] / same_session[0],
            ratio_label=f"{same_session[-1] / same_session[0]:.2f}x the 1st",
        ),
        Row(
            benchmark="Schema copy alone: one batch script vs django-tenants clone_schema()",
            figure=median(copies["script"]),
            baseline=median(copies["clone_schema"]),
            unit="s",
            better="lower",
            goal="- (informational; baseline = the copy tenant_create made before)",
            met=None,
            ratio=median(copies["clone_schema"]) / median(copies["script"]),
            ratio_label=f"{median(copies['clone_schema']) / median(copies['script']):.1f}x faster",
        ),
    ]
    how = (
        f"In the bench process, `tenant_create(method=...)` creates a tenant with schema, "
        f"primary domain, built-in roles and a first admin (password hashed with the test "
        f'hasher). Baseline: the same call with `method="migrate"`, which runs every '
        f"migration into an empty schema. One unmeasured warm-up of each method, then "
        f"{CLONE_RUNS} clone and {MIGRATE_RUNS} migrate runs, each on a new database "
        "connection (as an operator-admin request gets under ASGI); wall-clock medians. "
        f"Ratio = migrate / clone. Then {SAME_SESSION_RUNS} clones back to back on one "
        "connection, first and last reported. The clone is `apps.tenants.schema_clone`: the "
        "template's DDL and row copies, read from the catalog once per migration state, sent "
        "as one batch. Last, the schema copy alone (no tenant row, domain or admin), "
        f"{COPY_RUNS} alternating runs of that batch and of django-tenants' PL/pgSQL "
        "`clone_schema()` (what `tenant_create` used before), each on a new connection "
        "after one unmeasured run of each; medians."
    )
    notes = [
        "clone runs (s): " + ", ".join(f"{s:.3f}" for s in clone),
        "migrate runs (s): " + ", ".join(f"{s:.3f}" for s in migrate),
        "clones back to back on one connection (s): "
        + ", ".join(f"{s:.3f}" for s in same_session)
        + f"; that PostgreSQL backend's resident memory afterwards: {backend_rss}.",
        "schema copy alone (s): "
        + "; ".join(
            f"{how} " + ", ".join(f"{s:.3f}" for s in runs) for how, runs in copies.items()
        ),
    ]
    return Section(title="Provisioning", rows=rows, how=how, notes=notes)
