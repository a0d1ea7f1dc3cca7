"""Concurrent network writes: the locks keep the tree acyclic, codes unique and sensors in
their asset's zone.

Two threads, each with its own database connection, meet at a barrier and call the
services, each in its own committed transaction as two web requests would. The rows are
committed (the threads cannot see the test's transaction) and removed afterwards; see
apps/hr/tests/test_leave_concurrency.py for why ``transaction=True`` is not used.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from django.utils import timezone

from apps.core.tenancy import in_tenant
from apps.pipeline.errors import CodeTakenError, ZoneCycleError
from apps.pipeline.tests.conftest import pipeline_actor
from tests.concurrency import race
from tests.personas import TENANT_B


@pytest.fixture
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Committed access instead of pytest-django's rolled-back transaction (named ``db``
    so pytest-django sets up the test database)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def committed(db) -> Iterator[dict[str, Any]]:
    """A root zone with two districts and an asset in the first, committed in tenant B;
    everything under the root is deleted afterwards."""
    from auditlog.models import LogEntry

    from apps.pipeline.models import Asset, Sensor, Zone
    from apps.pipeline.tests.factories import asset_make, zone_make

    with in_tenant(TENANT_B):
        started = timezone.now()
        root = zone_make("RACE-ROOT")
        first = zone_make("RACE-A", parent=root)
        second = zone_make("RACE-B", parent=root)
        asset = asset_make("RACE-ASSET", zone=first)
    try:
        yield {"root": root, "first": first, "second": second, "asset": asset}
    finally:
        with in_tenant(TENANT_B):
            zones = list(Zone.objects.filter(code__startswith="RACE-").values_list("pk", flat=True))
            Sensor.all_objects.filter(zone__in=zones).delete()
            Asset.all_objects.filter(zone__in=zones).delete()
            # Children before parents: the parent key is PROTECT.
            while Zone.objects.filter(pk__in=zones).exists():
                Zone.objects.filter(pk__in=zones, children__isnull=True).delete()
            LogEntry.objects.filter(timestamp__gte=started).delete()


_race = partial(race, schema_name=TENANT_B)


def test_crossed_moves_cannot_form_a_cycle(committed):
    from apps.pipeline.models import Zone
    from apps.pipeline.services import network as services

    actor = pipeline_actor("admin")
    first, second = committed["first"], committed["second"]

    results = _race(
        lambda: services.zone_update(actor=actor, zone=first, data={"parent": second.pk}),
        lambda: services.zone_update(actor=actor, zone=second, data={"parent": first.pk}),
    )

    assert sum(isinstance(result, Zone) for result in results) == 1, results
    assert sum(isinstance(result, ZoneCycleError) for result in results) == 1, results
    with in_tenant(TENANT_B):
        parents = dict(
            Zone.objects.filter(code__in=["RACE-A", "RACE-B"]).values_list("code", "parent__code")
        )
    # One moved under the other, which stayed under the root.
    assert sorted(parents.items()) in (
        [("RACE-A", "RACE-B"), ("RACE-B", "RACE-ROOT")],
        [("RACE-A", "RACE-ROOT"), ("RACE-B", "RACE-A")],
    )


def test_the_same_code_twice_at_once_is_one_zone(committed):
    from apps.pipeline.models import Zone
    from apps.pipeline.services import network as services

    actor = pipeline_actor("admin")
    root = committed["root"]

    def create() -> Any:
        return services.zone_create(actor=actor, code="RACE-SAME", name="Same", parent_id=root.pk)

    results = _race(create, create)

    assert sum(isinstance(result, Zone) for result in results) == 1, results
    assert sum(isinstance(result, CodeTakenError) for result in results) == 1, results


def test_a_sensor_added_while_its_asset_moves_ends_in_the_new_zone(committed):
    from apps.pipeline.models import Sensor
    from apps.pipeline.services import network as services

    actor = pipeline_actor("admin")
    asset, second = committed["asset"], committed["second"]

    results = _race(
        lambda: services.asset_update(actor=actor, asset=asset, data={"zone": second.pk}),
        lambda: services.sensor_create(
            actor=actor,
            code="RACE-SENSOR",
            asset_id=asset.pk,
            kind="flow",
            unit="m3/h",
            valid_min=0.0,
            valid_max=10.0,
        ),
    )

    assert not [result for result in results if isinstance(result, Exception)], results
    with in_tenant(TENANT_B):
        assert Sensor.objects.get(code="RACE-SENSOR").zone_id == second.pk
