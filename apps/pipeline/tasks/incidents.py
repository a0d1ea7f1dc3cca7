"""Celery tasks of pipeline incidents: thin wrappers around apps.pipeline.services.incidents.

``pipeline.escalation_scan`` and ``pipeline.dispatch_offers_expire`` run every minute for
each tenant with the pipeline module, through ``jobs.fanout`` (CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from datetime import datetime

from apps.jobs.base import tenant_task


def _services():
    from apps.pipeline.services import incidents

    return incidents


@tenant_task(name="pipeline.escalation_scan", queue="default")
def escalation_scan(*, schema_name: str, now: str | None = None) -> int:
    """Raise every due, unacknowledged incident one level (set-based)."""
    return _services().escalation_scan(now=datetime.fromisoformat(now) if now else None)


@tenant_task(name="pipeline.dispatch_offers_expire", queue="default")
def dispatch_offers_expire(*, schema_name: str, now: str | None = None) -> int:
    """Expire unanswered dispatch offers and offer their incidents to the next team."""
    return _services().dispatch_offers_expire(now=datetime.fromisoformat(now) if now else None)


@tenant_task(name="pipeline.escalation_notify", queue="high")
def escalation_notify(*, schema_name: str, escalated_at: str) -> int:
    """Notify the recipients of the escalation steps a scan took at ``escalated_at``."""
    return _services().escalation_notify(escalated_at=escalated_at)


@tenant_task(name="pipeline.dispatch_offers_notify", queue="high")
def dispatch_offers_notify(*, schema_name: str, offer_ids: list[str]) -> int:
    """Notify the members of each offered team."""
    return _services().dispatch_offers_notify(offer_ids=offer_ids)


@tenant_task(name="pipeline.incidents_publish", queue="high")
def incidents_publish(*, schema_name: str, incident_ids: list[str]) -> int:
    """Publish the incidents' current state (after the bulk paths)."""
    return _services().incidents_publish(incident_ids=incident_ids)
