"""Monthly reading partitions: created on demand by ingestion and ahead by the daily task,
recorded in ReadingPartition, carrying the parent's BRIN index; the per-process cache of
known months is per schema and survives a partition that vanished."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from apps.core.tenancy import in_tenant
from apps.pipeline.tests import conftest_ingestion
from apps.pipeline.tests.conftest_ingestion import count_rows, device_client, reading
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db
keyed = conftest_ingestion.keyed


def _partitions(schema_name: str = TENANT_B) -> dict[str, str]:
    """name -> bound expression of every partition of the schema's pipeline_reading."""
    with in_tenant(schema_name), connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname, pg_get_expr(child.relpartbound, child.oid)
            FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            JOIN pg_namespace ns ON ns.oid = parent.relnamespace
            WHERE parent.relname = 'pipeline_reading' AND ns.nspname = %s
              AND child.relkind = 'r'
            """,
            [schema_name],
        )
        return dict(cursor.fetchall())


def _services():
    from apps.pipeline.services import ingestion

    return ingestion


def test_ensure_creates_monthly_partitions_once(in_tenant_b):
    from apps.pipeline.models import ReadingPartition

    created = _services().reading_partitions_ensure(
        months=[date(2031, 1, 15), datetime(2031, 2, 28, 23, 30, tzinfo=UTC)]
    )
    again = _services().reading_partitions_ensure(months=[date(2031, 1, 1), date(2031, 2, 1)])

    assert created == [date(2031, 1, 1), date(2031, 2, 1)]
    assert again == []
    partitions = _partitions()
    assert partitions["pipeline_reading_y2031m01"] == (
        "FOR VALUES FROM ('2031-01-01 00:00:00+00') TO ('2031-02-01 00:00:00+00')"
    )
    assert partitions["pipeline_reading_y2031m02"] == (
        "FOR VALUES FROM ('2031-02-01 00:00:00+00') TO ('2031-03-01 00:00:00+00')"
    )
    assert set(ReadingPartition.objects.values_list("month", flat=True)) >= {
        date(2031, 1, 1),
        date(2031, 2, 1),
    }
    # Only in this tenant's schema.
    assert not any(name.startswith("pipeline_reading_y2031") for name in _partitions(TENANT_A))


def test_partition_carries_the_brin_index_on_time(in_tenant_b):
    _services().reading_partitions_ensure(months=[date(2031, 5, 1)])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
            [TENANT_B, "pipeline_reading_y2031m05"],
        )
        definitions = [row[0] for row in cursor.fetchall()]

    assert any("USING brin (recorded_at)" in definition for definition in definitions)


def test_december_rolls_over_to_january(in_tenant_b):
    _services().reading_partitions_ensure(months=[date(2032, 12, 3)])

    assert _partitions()["pipeline_reading_y2032m12"] == (
        "FOR VALUES FROM ('2032-12-01 00:00:00+00') TO ('2033-01-01 00:00:00+00')"
    )


def test_months_are_utc(in_tenant_b):
    from datetime import timezone as dt_timezone

    # 00:30 on 1 March in UTC+2 is still February in UTC.
    at = datetime(2031, 3, 1, 0, 30, tzinfo=dt_timezone(timedelta(hours=2)))

    assert _services().month_start(at) == date(2031, 2, 1)


def test_daily_task_creates_this_month_and_the_next_two(tenant_b):
    from django.utils import timezone

    from apps.pipeline.models import ReadingPartition
    from apps.pipeline.tasks.ingestion import reading_partitions_ahead

    this_month = _services().month_start(timezone.now())
    expected = [this_month]
    for _ in range(2):
        expected.append(_services()._next_month(expected[-1]))  # noqa: SLF001

    first = reading_partitions_ahead(schema_name=TENANT_B)
    second = reading_partitions_ahead(schema_name=TENANT_B)

    assert first == 3
    assert second == 0
    names = _partitions()
    assert all(_services().partition_name(month) in names for month in expected)
    with in_tenant(TENANT_B):
        assert set(expected) <= set(ReadingPartition.objects.values_list("month", flat=True))


def test_ingest_creates_the_partition_of_each_month_in_the_batch(keyed):
    net = keyed.network
    last_month = _services().month_start(keyed.now) - timedelta(days=1)
    old = datetime(last_month.year, last_month.month, 15, 12, tzinfo=UTC)
    assert _services().partition_name(_services().month_start(old)) not in _partitions()

    response = device_client(keyed.raw_key).post(
        "/api/v1/pipeline/ingest/",
        {
            "batch_id": "two-months",
            "readings": [
                reading(net.north_flow, old, 1.0),
                reading(net.north_flow, keyed.at(1), 2.0),
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    for at in (old, keyed.at(1)):
        name = _services().partition_name(_services().month_start(at))
        assert name in _partitions()
        assert count_rows(f"SELECT count(*) FROM {name} WHERE recorded_at = %s", [at]) == 1  # noqa: S608


def _count_forgets(monkeypatch) -> list[int]:
    calls: list[int] = []
    forget = _services()._forget_partitions  # noqa: SLF001

    def counting() -> None:
        calls.append(1)
        forget()

    monkeypatch.setattr(_services(), "_forget_partitions", counting)
    return calls


def test_a_month_cached_as_known_whose_partition_is_gone_is_created_again(keyed, monkeypatch):
    """The cache said the month exists (it did, in a transaction since rolled back):
    the COPY finds no partition, the cache is forgotten and the batch goes through."""
    forgets = _count_forgets(monkeypatch)
    month = _services().month_start(keyed.now)
    assert _services().partition_name(month) not in _partitions()
    _services()._known_months[TENANT_B] = {month}  # noqa: SLF001
    try:
        response = device_client(keyed.raw_key).post(
            "/api/v1/pipeline/ingest/",
            {
                "batch_id": "stale",
                "readings": [reading(keyed.network.north_flow, keyed.at(1), 2.0)],
            },
            format="json",
        )
    finally:
        _services()._known_months.pop(TENANT_B, None)  # noqa: SLF001

    assert response.status_code == 201, response.content
    assert response.json()["accepted"] == 1
    assert _services().partition_name(month) in _partitions()
    assert forgets == [1]


def test_known_months_are_kept_per_schema(keyed, monkeypatch):
    """A month known in tenant A's schema is not taken as known in B's: B's partition is
    made up front, not found missing by the COPY."""
    forgets = _count_forgets(monkeypatch)
    month = _services().month_start(keyed.now)
    _services()._known_months[TENANT_A] = {month}  # noqa: SLF001
    try:
        with in_tenant(TENANT_B):
            report = _services().readings_ingest(
                device=keyed.network.logger,
                batch_id="per-schema",
                readings=[reading(keyed.network.north_flow, keyed.at(1), 2.0)],
            )
    finally:
        _services()._known_months.pop(TENANT_A, None)  # noqa: SLF001

    assert report.accepted == 1
    assert forgets == []
    assert _services().partition_name(month) in _partitions()
    assert _services().partition_name(month) not in _partitions(TENANT_A)


def test_a_partition_dropped_by_hand_is_made_again(keyed):
    from apps.pipeline.models import ReadingPartition

    month = _services().month_start(keyed.now)
    _services().reading_partitions_ensure(months=[month])
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {_services().partition_name(month)}")
    assert ReadingPartition.objects.filter(month=month).exists()

    report = _services().readings_ingest(
        device=keyed.network.logger,
        batch_id="after-drop",
        readings=[reading(keyed.network.north_flow, keyed.at(1), 2.0)],
    )

    assert report.accepted == 1
    assert _services().partition_name(month) in _partitions()
