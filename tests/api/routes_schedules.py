"""Cross-tenant specs for /api/v1/schedules/ (merged into tests.api.routes.ROUTES)."""

from __future__ import annotations

import uuid

from tests.api.routes import Spec

CRON = "0 9 * * 1-5"


def _make_schedule() -> tuple[dict, str]:
    """A schedule, with its beat entry, made through the service by the tenant's admin."""
    from apps.accounts.models import User
    from apps.accounts.selectors import actor_for_user
    from apps.core.tenancy import current_schema, in_public
    from apps.schedules.services import schedule_create
    from apps.tenants.models import Tenant

    marker = f"xt-schedule-{uuid.uuid4().hex[:8]}"
    schema_name = current_schema()
    with in_public():
        tenant = Tenant.objects.get(schema_name=schema_name)
    actor = actor_for_user(user=User.objects.get(username="admin"))
    schedule = schedule_create(
        actor=actor,
        tenant=tenant,
        name=marker,
        task="schedules.heartbeat",
        cron_expression=CRON,
        timezone="Europe/Berlin",
    )
    return {"schedule_id": schedule.pk}, marker


def _schedule_intact(marker: str) -> bool:
    """Unchanged, never run, and its beat entry still on with the same crontab."""
    from django_celery_beat.models import PeriodicTask

    from apps.core.tenancy import current_schema, in_public
    from apps.jobs.models import OutboxMessage
    from apps.schedules.models import Schedule, ScheduleRun
    from apps.schedules.services import beat_entry_name

    schedule = Schedule.objects.filter(
        name=marker, cron=CRON, timezone="Europe/Berlin", is_enabled=True
    ).first()
    if schedule is None or schedule.last_run_at is not None:
        return False
    if ScheduleRun.objects.filter(schedule=schedule).exists():
        return False
    if OutboxMessage.objects.filter(task_name="schedules.heartbeat").exists():
        return False
    name = beat_entry_name(schema_name=current_schema(), schedule_id=schedule.pk)
    with in_public():
        return PeriodicTask.objects.filter(
            name=name, enabled=True, crontab__hour="9", crontab__day_of_week="1-5"
        ).exists()


ROUTES: dict[str, Spec] = {
    "api/v1/schedules/": Spec(make=_make_schedule, intact=_schedule_intact),
    "api/v1/schedules/preview/": Spec(make=None),
    "api/v1/schedules/tasks/": Spec(make=None),
    "api/v1/schedules/<uuid:schedule_id>/": Spec(
        make=_make_schedule,
        write_body={"name": "taken over", "is_enabled": False, "cron": "* * * * *"},
        intact=_schedule_intact,
    ),
    "api/v1/schedules/<uuid:schedule_id>/run/": Spec(make=_make_schedule, intact=_schedule_intact),
    "api/v1/schedules/<uuid:schedule_id>/runs/": Spec(make=_make_schedule, intact=_schedule_intact),
}
