"""Pipeline dispatch: the nearest-team query over 10,000 field teams.

    BENCH_ONLY=pipeline_nearest_team make bench   # or: python -m bench.pipeline_nearest_team

One tenant (cloned like any tenant) gets 10,000 teams inserted with SQL
``generate_series``: bases spread over a 300 x 300 km box, a third with a last reported
position nearby, skills from a set of four, one in five unavailable. The figure is the
latency of ``apps.pipeline.selectors.incidents.team_nearest`` (the five nearest available
teams with the skill "pipes", through the ORM's raw query, as dispatch calls it) at 500
random points: p50 and p99. Its ORDER BY is the GiST index's expression with ``<->``, so
PostgreSQL walks the index nearest first. The baseline, in the same run at the same
points, is a full scan: the haversine distance of every row computed in SQL, ORDER BY it,
LIMIT 5. Both must name the same nearest team at every point (checked).
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from bench.common import BENCH_PASSWORD, Row, Section, log

TEAMS = 10_000
POINTS = 500
LATENCY_GOAL_MS = 20.0
SCHEMA = "bench_nearest_team"
BOX = (51.0, 4.0, 2.7, 4.3)  # south, west, height and width in degrees (~300 x 300 km)

FILL_SQL = """
DELETE FROM pipeline_dispatchoffer;
DELETE FROM pipeline_teammember;
UPDATE pipeline_incident SET assigned_team_id = NULL;
DELETE FROM pipeline_fieldteam;
INSERT INTO pipeline_fieldteam (id, created_at, updated_at, code, name, skills,
    base_latitude, base_longitude, last_latitude, last_longitude, is_available)
SELECT gen_random_uuid(), now(), now(), 'T' || n, 'Team ' || n,
    CASE n %% 4 WHEN 0 THEN ARRAY['pipes'] WHEN 1 THEN ARRAY['pipes', 'valves']
        WHEN 2 THEN ARRAY['pumps'] ELSE ARRAY['valves', 'meters'] END::varchar[],
    b.lat, b.lon,
    CASE WHEN n %% 3 = 0 THEN b.lat + (random() - 0.5) / 10 END,
    CASE WHEN n %% 3 = 0 THEN b.lon + (random() - 0.5) / 10 END,
    n %% 5 <> 0
FROM generate_series(1, %(count)s) AS n,
     LATERAL (SELECT %(south)s + random() * %(height)s + n * 0 AS lat,
                     %(west)s + random() * %(width)s + n * 0 AS lon) AS b;
ANALYZE pipeline_fieldteam;
"""

# The same filter, every row's great-circle distance (haversine, earth radius 6371 km).
FULL_SCAN_SQL = """
SELECT id FROM (
    SELECT id, 2 * 6371 * asin(sqrt(
        power(sin(radians(COALESCE(last_latitude, base_latitude) - %(lat)s) / 2), 2)
        + cos(radians(%(lat)s)) * cos(radians(COALESCE(last_latitude, base_latitude)))
        * power(sin(radians(COALESCE(last_longitude, base_longitude) - %(lon)s) / 2), 2)
    )) AS distance_km
    FROM pipeline_fieldteam
    WHERE deleted_at IS NULL AND is_available AND %(skill)s = ANY(skills)
) ranked
ORDER BY distance_km LIMIT 5
"""


def _tenant() -> None:
    from apps.tenants.models import Tenant
    from apps.tenants.services import template_ensure, tenant_create

    if Tenant.objects.filter(schema_name=SCHEMA).exists():
        return
    template_ensure()
    tenant_create(
        schema_name=SCHEMA,
        name="Bench nearest team",
        domain="bench-nearest-team.bench.localhost",
        admin_username="admin",
        admin_password=BENCH_PASSWORD,
        modules=["pipeline"],
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure() -> dict[str, Any]:
    from django.db import connection

    from apps.core.tenancy import in_tenant
    from apps.pipeline.selectors.incidents import team_nearest, team_nearest_sql

    _tenant()
    south, west, height, width = BOX
    rng = random.Random(42)
    points = [(south + rng.random() * height, west + rng.random() * width) for _ in range(POINTS)]
    with in_tenant(SCHEMA):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                FILL_SQL,
                {"count": TEAMS, "south": south, "west": west, "height": height, "width": width},
            )
            cursor.execute(
                "EXPLAIN " + team_nearest_sql(skill=True, exclude=False),
                {
                    "lat": points[0][0],
                    "lon": points[0][1],
                    "skill": "pipes",
                    "exclude": [],
                    "limit": 5,
                },
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
        log(f"nearest team: {TEAMS:,} teams in {time.perf_counter() - started:.1f}s")
        uses_index = "pipeline_team_position_gist" in plan

        # Warm both paths once.
        team_nearest(latitude=points[0][0], longitude=points[0][1], skill="pipes")
        indexed: list[float] = []
        knn_sql: list[float] = []
        full: list[float] = []
        sql = team_nearest_sql(skill=True, exclude=False)
        agree = 0
        with connection.cursor() as cursor:
            cursor.execute(
                FULL_SCAN_SQL, {"lat": points[0][0], "lon": points[0][1], "skill": "pipes"}
            )
            cursor.fetchall()
            for lat, lon in points:
                begun = time.perf_counter()
                teams = team_nearest(latitude=lat, longitude=lon, skill="pipes", limit=5)
                indexed.append((time.perf_counter() - begun) * 1000)
                begun = time.perf_counter()
                cursor.execute(
                    sql, {"lat": lat, "lon": lon, "skill": "pipes", "exclude": [], "limit": 5}
                )
                cursor.fetchall()
                knn_sql.append((time.perf_counter() - begun) * 1000)
                begun = time.perf_counter()
                cursor.execute(FULL_SCAN_SQL, {"lat": lat, "lon": lon, "skill": "pipes"})
                rows = cursor.fetchall()
                full.append((time.perf_counter() - begun) * 1000)
                agree += bool(teams) and bool(rows) and str(teams[0].pk) == str(rows[0][0])
    result = {
        "p50": statistics.median(indexed),
        "p99": _percentile(indexed, 0.99),
        "sql_p50": statistics.median(knn_sql),
        "sql_p99": _percentile(knn_sql, 0.99),
        "full_p50": statistics.median(full),
        "full_p99": _percentile(full, 0.99),
        "agree": agree,
        "uses_index": uses_index,
        "plan": plan,
    }
    log(
        f"nearest team: p50 {result['p50']:.2f} ms p99 {result['p99']:.2f} ms; full scan p50 "
        f"{result['full_p50']:.2f} ms p99 {result['full_p99']:.2f} ms; same nearest team at "
        f"{agree}/{POINTS} points; index used: {uses_index}"
    )
    return result


def section() -> Section:
    r = measure()
    return Section(
        title="Pipeline nearest team",
        rows=[
            Row(
                benchmark=f"Nearest available team with a skill, {TEAMS:,} teams: p50 latency "
                "(vs a full-scan haversine ORDER BY)",
                figure=r["p50"],
                baseline=r["full_p50"],
                unit="ms",
                better="lower",
                goal=f"<= {LATENCY_GOAL_MS:g} ms",
                met=r["p50"] <= LATENCY_GOAL_MS,
                ratio=r["full_p50"] / r["p50"],
                ratio_label=f"{r['full_p50'] / r['p50']:.1f}x faster",
            ),
            Row(
                benchmark=f"Nearest available team with a skill, {TEAMS:,} teams: p99 latency "
                "(vs the full scan's p99)",
                figure=r["p99"],
                baseline=r["full_p99"],
                unit="ms",
                better="lower",
                goal=f"<= {LATENCY_GOAL_MS:g} ms",
                met=r["p99"] <= LATENCY_GOAL_MS,
                ratio=r["full_p99"] / r["p99"],
                ratio_label=f"{r['full_p99'] / r['p99']:.1f}x faster",
            ),
        ],
        how=" ".join((__doc__ or "").split("\n\n")[2:]).strip().replace("\n", " "),
        notes=[
            f"Same nearest team as the full scan at {r['agree']}/{POINTS} points; the plan "
            f"uses pipeline_team_position_gist: {'yes' if r['uses_index'] else 'no'}.",
            f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms; full scan p50 "
            f"{r['full_p50']:.2f} ms, p99 {r['full_p99']:.2f} ms. The same KNN statement on a "
            f"bare cursor (no model rows built, like the baseline): p50 {r['sql_p50']:.2f} ms, "
            f"p99 {r['sql_p99']:.2f} ms.",
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
