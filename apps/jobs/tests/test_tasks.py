"""The platform fan-out over tenants and its deterministic jitter."""

from __future__ import annotations

import pytest

from apps.core.tenancy import in_public
from apps.jobs.tasks import fanout, fanout_delay
from apps.tenants.models import Tenant
from apps.tenants.selectors import tenant_list_business
from tests.personas import TENANT_A, TENANT_B


def test_fanout_delay_is_the_same_for_a_tenant_every_time():
    first = fanout_delay(schema_name=TENANT_A, task_name="reports.cleanup", window_seconds=600)

    assert all(
        fanout_delay(schema_name=TENANT_A, task_name="reports.cleanup", window_seconds=600) == first
        for _ in range(5)
    )
    # Pinned: a new hash would move every tenant's slot (sha256, not Python's salted hash()).
    assert first == 542
    assert fanout_delay(schema_name=TENANT_B, task_name="reports.cleanup", window_seconds=600) == 63


def test_fanout_delay_stays_inside_the_window_and_spreads_tenants():
    delays = {
        fanout_delay(schema_name=f"tenant_{number}", task_name="t", window_seconds=60)
        for number in range(200)
    }

    assert delays <= set(range(60))
    assert len(delays) > 40


@pytest.mark.parametrize("window", [0, 1])
def test_fanout_delay_without_a_window_is_zero(window):
    assert fanout_delay(schema_name=TENANT_A, task_name="t", window_seconds=window) == 0


def _active_business() -> list[str]:
    with in_public():
        return sorted(tenant_list_business(status="active").values_list("schema_name", flat=True))


@pytest.mark.django_db
def test_fanout_sends_one_task_per_active_tenant_with_its_countdown(sent):
    Tenant.objects.filter(schema_name=TENANT_B).update(status=Tenant.Status.SUSPENDED)
    expected = _active_business()
    assert TENANT_A in expected
    assert TENANT_B not in expected

    count = fanout(task_name="tests.jobs.record", window_seconds=120)

    assert count == len(expected)
    assert sorted(call["kwargs"]["schema_name"] for call in sent) == expected
    for call in sent:
        assert call["name"] == "tests.jobs.record"
        assert call["kwargs"] == {"schema_name": call["kwargs"]["schema_name"]}
        assert call["countdown"] == fanout_delay(
            schema_name=call["kwargs"]["schema_name"],
            task_name="tests.jobs.record",
            window_seconds=120,
        )


@pytest.mark.django_db
def test_fanout_with_a_module_reaches_only_tenants_that_have_it_on(sent):
    count = fanout(task_name="tests.jobs.record", module="hr", window_seconds=60)

    with in_public():
        expected = sorted(
            Tenant.objects.filter(
                status=Tenant.Status.ACTIVE,
                kind=Tenant.Kind.BUSINESS,
                modules__module="hr",
                modules__is_enabled=True,
            ).values_list("schema_name", flat=True)
        )
    assert TENANT_A in expected
    assert TENANT_B not in expected
    assert count == len(expected)
    assert sorted(call["kwargs"]["schema_name"] for call in sent) == expected
