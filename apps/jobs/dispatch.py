"""Durable enqueue: tasks go through a per-tenant outbox written in the caller's transaction.

``enqueue(task, **kwargs)`` records the task next to the change that asked for it and
sends it after commit. If the broker cannot take it, the row stays and the relay
(``manage.py outbox_relay``, also started by ``make run``) sends it once the broker is
back. Nothing requested by a committed change is lost, and nothing is sent for a change
that rolled back.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from apps.core import tenancy
from apps.jobs.models import OutboxMessage

logger = logging.getLogger("tenantry.jobs")

CLAIM_TIMEOUT = timedelta(minutes=1)
# Messages younger than this are left to their own after-commit hook.
RELAY_GRACE = timedelta(seconds=5)


def enqueue(task: Task, *, countdown: int | None = None, **kwargs: Any) -> OutboxMessage:
    """Queue ``task`` for the current tenant once the surrounding transaction commits."""
    schema_name = tenancy.require_tenant_schema()
    message = OutboxMessage.objects.create(
        task_name=task.name,
        kwargs={"schema_name": schema_name, **kwargs},
        queue=getattr(task, "queue", None) or "default",
        countdown=countdown,
    )
    message_id = message.pk
    transaction.on_commit(lambda: publish(schema_name=schema_name, message_id=message_id))
    return message


def _claim(message_id: Any) -> OutboxMessage | None:
    now = timezone.now()
    unclaimed = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)
    claimed = OutboxMessage.objects.filter(unclaimed, pk=message_id, sent_at__isnull=True)
    if claimed.update(claimed_at=now) != 1:
        return None
    return OutboxMessage.objects.get(pk=message_id)


# After a failed send this process leaves the broker alone for a while: without it,
# every enqueue of every request would wait out the connect timeout (~2 s) while the
# broker is down. The outbox keeps the messages; the relay retries.
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


def _broker_known_down() -> bool:
    return time.monotonic() < _broker_down_until


def publish(*, schema_name: str, message_id: Any) -> bool:
    """Send one outbox message; True when the broker took it (or it ran inline)."""
    global _broker_down_until
    with tenancy.in_tenant(schema_name):
        message = _claim(message_id)
        if message is None:
            return False  # already sent, or someone else is sending it right now
        if _broker_known_down():
            return _broker_failed(message, BrokerError("broker recently unreachable"))
        try:
            current_app.send_task(
                message.task_name,
                kwargs=message.kwargs,
                queue=message.queue,
                countdown=message.countdown,
                task_id=str(message.pk),
                retry=False,
            )
        except (BrokerError, OSError, ConnectionError) as error:
            _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
            return _broker_failed(message, error)
        OutboxMessage.objects.filter(pk=message.pk).update(
            sent_at=timezone.now(), attempts=message.attempts + 1, last_error=""
        )
        return True


def _broker_failed(message: OutboxMessage, error: Exception) -> bool:
    task = current_app.tasks.get(message.task_name)
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=None, attempts=message.attempts + 1, last_error=str(error)[:2000]
    )
    if task is not None and getattr(task, "inline_when_broker_down", False):
        logger.warning(
            "Broker unreachable (%s); running %s inline as it allows", error, message.task_name
        )
        OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now())
        task.apply(kwargs=message.kwargs, task_id=str(message.pk))
        return True
    logger.warning("Broker unreachable (%s); %s stays in the outbox", error, message.task_name)
    return False


def pending_schemas() -> list[str]:
    """Tenant schemas holding unsent outbox messages older than the grace period; one query."""
    from apps.tenants.models import Tenant

    with tenancy.in_public():
        schemas = list(
            Tenant.objects.exclude(kind=Tenant.Kind.PUBLIC).values_list("schema_name", flat=True)
        )
        if not schemas:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_schema FROM information_schema.tables "
                "WHERE table_name = 'jobs_outboxmessage' AND table_schema = ANY(%s)",
                [schemas],
            )
            present = [row[0] for row in cursor.fetchall()]
            if not present:
                return []
            cutoff = timezone.now() - RELAY_GRACE
            parts = [
                f"(SELECT %s FROM {tenancy.quote_schema(schema)}.jobs_outboxmessage "  # noqa: S608
                "WHERE sent_at IS NULL AND created_at < %s LIMIT 1)"
                for schema in present
            ]
            params: list[Any] = []
            for schema in present:
                params += [schema, cutoff]
            cursor.execute(" UNION ALL ".join(parts), params)
            return [row[0] for row in cursor.fetchall()]


def relay_pending(*, batch: int = 500) -> int:
    """Send what the after-commit hooks could not; returns how many were sent."""
    sent = 0
    for schema_name in pending_schemas():
        with tenancy.in_tenant(schema_name):
            cutoff = timezone.now() - RELAY_GRACE
            message_ids = list(
                OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lt=cutoff)
                .order_by("created_at")
                .values_list("pk", flat=True)[:batch]
            )
        for message_id in message_ids:
            if publish(schema_name=schema_name, message_id=message_id):
                sent += 1
            else:
                break  # the broker is still down: try again next round
    return sent


def relay_forever(*, interval: float = 2.0, stop_after: float | None = None) -> None:
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        try:
            sent = relay_pending()
            if sent:
                logger.info("Outbox relay sent %d message(s)", sent)
        except Exception:  # noqa: BLE001 - the relay must outlive one bad round
            logger.exception("Outbox relay round failed")
        time.sleep(interval)
