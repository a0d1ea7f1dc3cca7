"""Platform tasks of the jobs app."""

from __future__ import annotations

import hashlib
import logging

from celery import current_app, shared_task

from apps.jobs.dispatch import relay_pending

logger = logging.getLogger("tenantry.jobs")


@shared_task(name="jobs.outbox_relay", queue="high", ignore_result=True)
def outbox_relay() -> int:
    """Beat's copy of the relay loop: sends outbox messages the after-commit hook missed."""
    return relay_pending()


def fanout_delay(*, schema_name: str, task_name: str, window_seconds: int) -> int:
    """Deterministic jitter: the same tenant always fires at the same offset in the window."""
    digest = hashlib.sha256(f"{task_name}:{schema_name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % max(window_seconds, 1)


@shared_task(name="jobs.fanout", queue="default", ignore_result=True)
def fanout(*, task_name: str, module: str | None = None, window_seconds: int = 60) -> int:
    """Platform-wide periodic work: one ``task_name`` per active tenant (with ``module`` on),
    spread over ``window_seconds`` so tenants do not all fire in the same second."""
    from apps.core.tenancy import in_public
    from apps.tenants.selectors import tenant_list_business, tenant_list_with_module

    with in_public():
        tenants = (
            tenant_list_with_module(module=module)
            if module
            else tenant_list_business(status="active")
        )
        schema_names = list(tenants.values_list("schema_name", flat=True))
    for schema_name in schema_names:
        current_app.send_task(
            task_name,
            kwargs={"schema_name": schema_name},
            countdown=fanout_delay(
                schema_name=schema_name, task_name=task_name, window_seconds=window_seconds
            ),
        )
    logger.info("Fanned out %s to %d tenant(s)", task_name, len(schema_names))
    return len(schema_names)
