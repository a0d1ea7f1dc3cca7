"""Helpers for the reports tests; the tenants and personas come from tests.fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


def actor_of(schema_name: str, name: str):
    """The Actor of persona ``name`` in ``schema_name``, as the API would build it."""
    from apps.accounts.selectors import actor_for_user
    from apps.core.tenancy import in_tenant
    from tests.fixtures import persona

    with in_tenant(schema_name):
        return actor_for_user(user=persona(schema_name, name))


def run_start(schema_name: str, persona_name: str, report_name: str, params: dict | None = None):
    """Start a run as the persona (the job is queued; nothing is sent: no commit)."""
    from apps.core.tenancy import in_tenant
    from apps.reports import registry, services

    actor = actor_of(schema_name, persona_name)
    with in_tenant(schema_name):
        return services.report_run_start(
            actor=actor, report=registry.report_lookup(report_name), params=params or {}
        )


def run_generate(schema_name: str, run) -> None:
    """The worker's side: the task function, called as Celery would."""
    from apps.reports import tasks

    tasks.report_generate(schema_name=schema_name, job_id=str(run.job_id), run_id=str(run.pk))


def run_fresh(schema_name: str, run):
    from apps.core.tenancy import in_tenant
    from apps.reports.models import ReportRun

    with in_tenant(schema_name):
        return ReportRun.objects.select_related("job").get(pk=run.pk)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """MEDIA_ROOT in a temporary directory, with a fresh default storage built on it."""
    settings.MEDIA_ROOT = str(tmp_path)
    # Resetting STORAGES drops the cached storage instance (and its cached paths).
    settings.STORAGES = {**settings.STORAGES}
    return tmp_path
