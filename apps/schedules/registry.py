"""Which tenant tasks a tenant may put on a schedule.

An app offers a task by registering it from its own ``schedulable.py`` (imported at
start-up by ``autodiscover()``)::

    # apps/reports/schedulable.py
    from apps.reports import tasks
    from apps.schedules.registry import register

    class Params(StrictSerializer):
        fmt = serializers.ChoiceField(choices=["csv", "xlsx"], default="csv")

    register(
        key="reports.generate-users",
        task=tasks.users_report_generate,
        description="Export the user list.",
        params_serializer=Params,
    )

The key is what a Schedule stores, so it must stay stable; the task may be renamed. The
task is a ``tenant_task``: it is enqueued with ``schema_name`` plus the validated
params (and ``schedule_run_id`` when ``takes_run_id`` is set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from celery import Task
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules
from rest_framework import serializers

from apps.jobs.base import TenantTask

# Keyword arguments the scheduler itself passes; a parameter must not shadow them.
RESERVED_PARAMS = frozenset({"schema_name", "schedule_run_id", "countdown"})
_KEY = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class SchedulableTask:
    key: str
    task: Task
    description: str
    params_serializer: type[serializers.Serializer] | None = None
    takes_run_id: bool = False


_registry: dict[str, SchedulableTask] = {}


def register(
    *,
    key: str,
    task: Task,
    description: str,
    params_serializer: type[serializers.Serializer] | None = None,
    takes_run_id: bool = False,
) -> SchedulableTask:
    """Offer ``task`` to tenants under ``key``; a second, different registration fails."""
    if not _KEY.match(key):
        raise ImproperlyConfigured(f"Schedulable task key {key!r} must look like 'app.name'.")
    if not isinstance(task, TenantTask):
        raise ImproperlyConfigured(f"{key}: only tenant tasks (apps.jobs.base.tenant_task).")
    if params_serializer is not None:
        clashes = RESERVED_PARAMS & set(params_serializer().fields)
        if clashes:
            raise ImproperlyConfigured(f"{key}: parameter names reserved: {sorted(clashes)}")
    entry = SchedulableTask(
        key=key,
        task=task,
        description=description,
        params_serializer=params_serializer,
        takes_run_id=takes_run_id,
    )
    existing = _registry.get(key)
    if existing is not None and existing != entry:
        raise ImproperlyConfigured(f"Schedulable task {key!r} is registered twice.")
    _registry[key] = entry
    return entry


def unregister(key: str) -> None:
    _registry.pop(key, None)


def schedulable_task_get(key: str) -> SchedulableTask | None:
    return _registry.get(key)


def schedulable_task_list() -> list[SchedulableTask]:
    return sorted(_registry.values(), key=lambda entry: entry.key)


def autodiscover() -> None:
    autodiscover_modules("schedulable")
