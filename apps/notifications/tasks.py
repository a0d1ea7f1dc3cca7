"""Tasks of the notifications app; each wraps one service."""

from __future__ import annotations

from apps.jobs.base import tenant_task
from apps.notifications import services


@tenant_task(name="notifications.deliver", queue="high")
def deliver(*, schema_name: str, delivery_id: str) -> None:
    """Send one delivery. Safe to run twice: only a queued, unclaimed delivery is sent.
    ProviderUnavailableError (a TransientError) is retried with backoff and jitter."""
    services.delivery_send(delivery_id=delivery_id)
