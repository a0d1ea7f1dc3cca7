"""Pipeline escalation: one tick of the escalation scan over 100,000 open incidents in 10
tenants.

    BENCH_ONLY=pipeline_escalation make bench   # or: python -m bench.pipeline_escalation

Ten tenants (cloned like any tenant) get 1,000, 3,000, ..., 19,000 open incidents each
(100,000 in all), inserted with SQL ``generate_series`` with their next escalation spread
over the coming hour, under a high-severity policy of three levels (5 minutes apart)
whose level 1 notifies a user and the holders of a role.

Two ticks are timed: one now (the steady state: a thirtieth of the incidents is due) and
one an hour later (the worst case: every incident is due at once). A tick is
``escalation_scan`` run in each tenant in turn (as the fan-out would), including its
writes (the incidents, escalation steps and timeline events) and the outbox row of the
notify task; sending the notifications is that task's work and is not timed. The
statements each tenant's scan sends are counted with a connection execute wrapper: the
same count at 1,000 and 19,000 due incidents means the scan is set-based. The baseline is
a bare ``UPDATE`` of the same due rows (level + 1, next time + 5 min) in every tenant, the
least a tick must write, run first and rolled back. The worst case is timed once more
with every tenant's scan running at the same time (one thread and connection each, as the
fan-out's per-tenant tasks run on workers), against the bare UPDATE run the same way. A
naive loop (per incident: read the level and its recipients with the ORM, save the
incident, insert a step and an event) is timed on 500 incidents and scaled to 100,000 in
the notes.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import BENCH_PASSWORD, Row, Section, log

SIZES = tuple(1_000 + 2_000 * index for index in range(10))  # 1,000 .. 19,000; 100,000
TICK_GOAL_SECONDS = 2.0
NAIVE_SAMPLE = 500


def _tenant(schema_name: str) -> None:
    from apps.tenants.models import Tenant
    from apps.tenants.services import template_ensure, tenant_create

    if Tenant.objects.filter(schema_name=schema_name).exists():
        return
    template_ensure()
    tenant_create(
        schema_name=schema_name,
        name=f"Bench {schema_name}",
        domain=f"{schema_name.replace('_', '-')}.bench.localhost",
        admin_username="admin",
        admin_password=BENCH_PASSWORD,
        modules=["pipeline"],
    )


FILL_SQL = """
TRUNCATE pipeline_incidentescalation, pipeline_incidentevent, pipeline_dispatchoffer,
    pipeline_incident CASCADE;
INSERT INTO pipeline_incident (id, created_at, updated_at, number, title, description,
    severity, status, source, latitude, longitude, required_skill, opened_at, resolution,
    escalation_level, next_escalation_at, escalation_policy_id, zone_id)
SELECT gen_random_uuid(), now(), now(), 'INC-' || lpad(n::text, 7, '0'), 'Leak ' || n, '',
    'high', 'open', 'alarm', 52 + (n %% 100) / 1000.0, 5 + (n %% 97) / 1000.0, '',
    now() - interval '10 minutes', '', 0,
    %(now)s + ((n %% 60) - 1) * interval '1 minute', %(policy)s, %(zone)s
FROM generate_series(1, %(count)s) AS n;
ANALYZE pipeline_incident, pipeline_escalationlevel, pipeline_escalationlevel_users,
    pipeline_escalationlevel_roles;
"""

BASELINE_SQL = """
UPDATE pipeline_incident SET escalation_level = escalation_level + 1,
    next_escalation_at = next_escalation_at + interval '5 minutes'
WHERE status = 'open' AND next_escalation_at <= %s
"""


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _prepare(schema_name: str, count: int, now: Any) -> None:
    from django.db import connection

    from apps.accounts.models import Role, User
    from apps.core.tenancy import in_tenant
    from apps.pipeline.models import EscalationLevel, EscalationPolicy, Zone

    _tenant(schema_name)
    with in_tenant(schema_name):
        zone, _ = Zone.objects.get_or_create(code="BENCH", defaults={"name": "Bench zone"})
        oncall, _ = User.objects.get_or_create(
            username="oncall", defaults={"email": "oncall@example.test"}
        )
        EscalationPolicy.objects.filter(severity="high").delete()
        policy = EscalationPolicy.objects.create(name="Bench high", severity="high")
        for level in (1, 2, 3):
            row = EscalationLevel.objects.create(policy=policy, level=level, delay_minutes=5)
            if level == 1:
                row.users.add(oncall)
                row.roles.add(Role.objects.get(slug="manager"))
        User.objects.get(username="admin").roles.add(Role.objects.get(slug="manager"))
        with connection.cursor() as cursor:
            cursor.execute(
                FILL_SQL, {"policy": policy.pk, "zone": zone.pk, "count": count, "now": now}
            )


def _naive_per_incident(schema_name: str, now: Any) -> float:
    """Seconds per incident of a per-row loop, on a sample, rolled back."""
    from django.db import transaction

    from apps.accounts.models import User
    from apps.core.tenancy import in_tenant
    from apps.pipeline.models import EscalationLevel, Incident, IncidentEscalation, IncidentEvent

    with in_tenant(schema_name), transaction.atomic():
        due = list(
            Incident.objects.filter(status="open", next_escalation_at__lte=now)[:NAIVE_SAMPLE]
        )
        started = time.perf_counter()
        for incident in due:
            level = EscalationLevel.objects.filter(
                policy_id=incident.escalation_policy_id, level=incident.escalation_level + 1
            ).first()
            if level is None:
                continue
            recipients = set(level.users.filter(is_active=True).values_list("pk", flat=True))
            recipients |= set(
                User.objects.filter(roles__in=level.roles.all(), is_active=True).values_list(
                    "pk", flat=True
                )
            )
            incident.escalation_level = level.level
            incident.save(update_fields=["escalation_level", "updated_at"])
            IncidentEscalation.objects.create(
                incident=incident,
                policy_id=incident.escalation_policy_id,
                level=level.level,
                recipient_ids=[str(pk) for pk in recipients],
            )
            IncidentEvent.objects.create(incident=incident, kind="escalated")
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds / max(len(due), 1)


def _tick(schemas: dict[str, int], now: Any) -> dict[str, Any]:
    """One tick at ``now`` over every tenant: the bare UPDATE first (rolled back), then
    the scan."""
    from django.db import connection, transaction

    from apps.core.tenancy import in_tenant
    from apps.pipeline.models import Incident
    from apps.pipeline.services import incidents as services

    baseline = 0.0
    due = 0
    for schema_name in schemas:
        with in_tenant(schema_name), transaction.atomic():
            due += Incident.objects.filter(status="open", next_escalation_at__lte=now).count()
            begun = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(BASELINE_SQL, [now])
            baseline += time.perf_counter() - begun
            transaction.set_rollback(True)
    tick = 0.0
    steps = 0
    queries: dict[str, int] = {}
    per_tenant: dict[str, float] = {}
    for schema_name in schemas:
        with in_tenant(schema_name):
            counter = _Counter()
            begun = time.perf_counter()
            with connection.execute_wrapper(counter):
                steps += services.escalation_scan(now=now)
            per_tenant[schema_name] = time.perf_counter() - begun
            tick += per_tenant[schema_name]
            queries[schema_name] = counter.count
    log(
        f"escalation: tick {tick:.2f}s for {steps:,} steps ({due:,} due), statements per "
        f"tenant {sorted(set(queries.values()))}, bare UPDATE {baseline:.2f}s"
    )
    return {
        "tick": tick,
        "baseline": baseline,
        "steps": steps,
        "due": due,
        "queries": queries,
        "per_tenant": per_tenant,
    }


def _in_parallel(schemas: dict[str, int], work: Any) -> float:
    """Wall time of ``work(schema_name)`` run for every tenant at once, one thread (and
    database connection) each, as the fan-out's per-tenant tasks would run on workers."""
    import threading

    from django.db import connection

    from apps.core.tenancy import in_tenant

    barrier = threading.Barrier(len(schemas) + 1)
    errors: list[BaseException] = []

    def run(schema_name: str) -> None:
        try:
            with in_tenant(schema_name):
                barrier.wait()
                work(schema_name)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in schemas]
    for thread in threads:
        thread.start()
    barrier.wait()
    begun = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - begun
    if errors:
        raise errors[0]
    return seconds


def _tick_parallel(schemas: dict[str, int], now: Any) -> dict[str, Any]:
    """The worst case again, every tenant's scan at the same time; the baseline is the
    bare UPDATE run the same way (rolled back)."""
    from django.db import connection, transaction

    from apps.pipeline.services import incidents as services

    def bare(schema_name: str) -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(BASELINE_SQL, [now])
            transaction.set_rollback(True)

    steps: list[int] = []
    baseline = _in_parallel(schemas, bare)
    tick = _in_parallel(schemas, lambda name: steps.append(services.escalation_scan(now=now)))
    log(
        f"escalation: parallel tick {tick:.2f}s for {sum(steps):,} steps, "
        f"bare UPDATE {baseline:.2f}s"
    )
    return {"tick": tick, "baseline": baseline, "steps": sum(steps), "due": sum(steps)}


def measure() -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    schemas = {f"bench_escalation_{index}": count for index, count in enumerate(SIZES)}
    now = timezone.now()
    started = time.perf_counter()
    for schema_name, count in schemas.items():
        _prepare(schema_name, count, now)
    log(
        f"escalation: {sum(SIZES):,} incidents in {len(SIZES)} tenants, "
        f"built in {time.perf_counter() - started:.1f}s"
    )
    # Steady state: due times spread over the next hour; a tick now finds 2 minutes of them.
    steady = _tick(schemas, now)
    # Worst case: an hour later every incident is due at once.
    later = now + timedelta(minutes=60)
    naive_per_incident = _naive_per_incident(next(iter(schemas)), later)
    worst = _tick(schemas, later)
    # And once more an hour later (every incident due again), all tenants at once.
    parallel = _tick_parallel(schemas, later + timedelta(minutes=60))
    log(f"escalation: naive loop {naive_per_incident * 1000:.2f} ms per incident")
    return {
        "steady": steady,
        "worst": worst,
        "parallel": parallel,
        "naive_per_incident": naive_per_incident,
        "schemas": schemas,
    }


def _tick_row(label: str, tick: dict[str, Any]) -> Row:
    return Row(
        benchmark=f"Escalation scan, {sum(SIZES):,} open incidents in {len(SIZES)} tenants, "
        f"{label} ({tick['due']:,} due): one tick (vs a bare UPDATE of the due rows)",
        figure=tick["tick"],
        baseline=tick["baseline"],
        unit="s",
        better="lower",
        goal=f"<= {TICK_GOAL_SECONDS:g} s",
        met=tick["tick"] <= TICK_GOAL_SECONDS,
        ratio=tick["tick"] / tick["baseline"],
        ratio_label=f"{tick['tick'] / tick['baseline']:.1f}x",
    )


def section() -> Section:
    result = measure()
    schemas, steady, worst = result["schemas"], result["steady"], result["worst"]
    smallest, largest = min(schemas, key=schemas.get), max(schemas, key=schemas.get)
    counts = {*steady["queries"].values(), *worst["queries"].values()}
    naive_total = result["naive_per_incident"] * sum(SIZES)
    return Section(
        title="Pipeline escalation scan",
        rows=[
            _tick_row("due times spread over an hour", steady),
            _tick_row("all due at once", worst),
            _tick_row("all due at once, tenants in parallel", result["parallel"]),
            Row(
                benchmark=f"Escalation scan: SQL statements per tenant at "
                f"{schemas[largest]:,} due (baseline: at {schemas[smallest]:,})",
                figure=float(worst["queries"][largest]),
                baseline=float(worst["queries"][smallest]),
                unit="queries",
                better="lower",
                goal="the same at every size",
                met=len(counts) == 1,
                ratio=worst["queries"][largest] / worst["queries"][smallest],
                ratio_label=f"{worst['queries'][largest] / worst['queries'][smallest]:.2f}",
            ),
        ],
        how=" ".join((__doc__ or "").split("\n\n")[2:]).strip().replace("\n", " "),
        notes=[
            "All due at once, per tenant: "
            + ", ".join(
                f"{schemas[name]:,} due: {seconds:.2f} s / {worst['queries'][name]} statements"
                for name, seconds in worst["per_tenant"].items()
            )
            + f"; {worst['steps']:,} steps written (every due incident: "
            + ("yes" if worst["steps"] == worst["due"] else "NO")
            + ").",
            f"Spread over an hour: {steady['steps']:,} steps in {steady['tick']:.2f} s; "
            f"statements per tenant {sorted(set(steady['queries'].values()))}.",
            f"Naive per-incident loop: {result['naive_per_incident'] * 1000:.2f} ms per "
            f"incident on a sample of {NAIVE_SAMPLE}, i.e. about {naive_total:.0f} s for "
            f"{sum(SIZES):,} incidents.",
        ],
    )


def main() -> int:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from apps.tenants.services import public_tenant_ensure

    call_command("migrate_tenants", verbosity=0)
    public_tenant_ensure(domain="localhost")
    result = section()
    for row in result.rows:
        print(row)
    for note in result.notes:
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
