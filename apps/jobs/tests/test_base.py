"""TenantTask: runs in its tenant, refuses to run without one, skips inactive tenants.

``Task.apply`` runs the task in this process through the same ``TenantTask.__call__`` a
worker uses; tests/jobs/ covers the same refusal in a real worker.
"""

from __future__ import annotations

import logging

import pytest

from apps.core.errors import TenantContextMissingError
from apps.tenants.models import Tenant
from tests.jobs.live import effects
from tests.jobs.tasks_for_tests import record
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db


def test_a_tenant_task_runs_inside_its_schema(effect_table):
    result = record.apply(kwargs={"schema_name": TENANT_A, "key": "in-a"})

    assert result.successful()
    assert [(row["schema_name"], row["key"]) for row in effects()] == [(TENANT_A, "in-a")]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        ((), {"key": "no-schema"}),
        ((), {"schema_name": "", "key": "empty"}),
        ((), {"schema_name": "public", "key": "public"}),
        ((TENANT_A,), {"key": "positional"}),
    ],
    ids=["no-kwargs", "no-schema", "empty-schema", "public", "positional"],
)
def test_a_task_without_a_tenant_is_refused_and_logged(effect_table, caplog, args, kwargs):
    caplog.set_level(logging.ERROR, logger="tenantry.jobs")

    result = record.apply(args=args, kwargs=kwargs)

    assert result.failed()
    assert isinstance(result.result, TenantContextMissingError)
    assert effects() == []
    refusals = [r for r in caplog.records if r.getMessage().startswith("Refused task")]
    assert len(refusals) == 1
    assert refusals[0].levelname == "ERROR"
    assert "tests.jobs.record" in refusals[0].getMessage()


def test_a_refused_task_is_not_retried():
    assert TenantContextMissingError not in record.autoretry_for


@pytest.mark.parametrize("status", [Tenant.Status.SUSPENDED, Tenant.Status.DELETED])
def test_a_task_of_an_inactive_tenant_is_skipped(effect_table, caplog, status):
    Tenant.objects.filter(schema_name=TENANT_A).update(status=status)
    caplog.set_level(logging.WARNING, logger="tenantry.jobs")

    result = record.apply(kwargs={"schema_name": TENANT_A, "key": "skipped"})

    assert result.successful()
    assert result.result is None
    assert effects() == []
    assert f"Skipped task tests.jobs.record: tenant {TENANT_A} is not active" in caplog.text


def test_a_task_of_an_unknown_tenant_is_skipped(effect_table):
    result = record.apply(kwargs={"schema_name": "no_such_tenant", "key": "unknown"})

    assert result.successful()
    assert effects() == []
