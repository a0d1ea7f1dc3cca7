"""Tenant-aware Celery tasks.

Every tenant task takes ``schema_name`` as its first keyword argument and runs inside
that schema. A task that arrives without one is refused, never run in public: the
failure is loud (logged, the task fails) and it is not retried.

    @tenant_task(name="reports.generate", queue="low")
    def report_generate(*, schema_name: str, job_id: str) -> None: ...
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task

from apps.core import tenancy
from apps.core.errors import TenantContextMissingError
from apps.jobs.errors import TransientError

logger = logging.getLogger("tenantry.jobs")

DEFAULT_RETRY = {
    "autoretry_for": (TransientError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


class TenantTask(Task):
    """Enters ``kwargs["schema_name"]`` around the task body; refuses to run without it."""

    abstract = True
    # Tasks marked so run in the requesting process when no broker is reachable
    # (the "fallback to synchronous" of small, quick jobs); the choice is logged.
    inline_when_broker_down = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        schema_name = kwargs.get("schema_name")
        if args or not schema_name or schema_name == tenancy.PUBLIC_SCHEMA:
            logger.error(
                "Refused task %s: no tenant (schema_name=%r, positional args=%d)",
                self.name,
                schema_name,
                len(args),
            )
            raise TenantContextMissingError(task=self.name)
        if not _tenant_is_active(schema_name):
            logger.warning("Skipped task %s: tenant %s is not active", self.name, schema_name)
            return None
        with tenancy.in_tenant(schema_name):
            return super().__call__(*args, **kwargs)


def _tenant_is_active(schema_name: str) -> bool:
    from apps.tenants.models import Tenant

    with tenancy.in_public():
        return Tenant.objects.filter(
            schema_name=schema_name,
            status=Tenant.Status.ACTIVE,
            kind__in=[Tenant.Kind.BUSINESS, Tenant.Kind.TEMPLATE],
        ).exists()


def tenant_task(
    *, name: str, queue: str = "default", inline_when_broker_down: bool = False, **options: Any
) -> Callable[[Callable[..., Any]], Task]:
    """``shared_task`` with the tenant base class, a name, a queue and retry defaults."""
    settings = {**DEFAULT_RETRY, **options}

    def decorate(function: Callable[..., Any]) -> Task:
        task = shared_task(base=TenantTask, name=name, queue=queue, **settings)(function)
        task.inline_when_broker_down = inline_when_broker_down
        return task

    return decorate
