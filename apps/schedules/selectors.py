from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone as django_timezone

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.schedules import cron, registry
from apps.schedules.models import Schedule, ScheduleRun


def schedule_list(*, actor: Actor) -> QuerySet[Schedule]:
    require_perm(actor, "schedules.view_schedule")
    return Schedule.objects.select_related("created_by")


def schedule_get(*, actor: Actor, schedule_id: object) -> Schedule:
    schedule = schedule_list(actor=actor).filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFoundError()
    return schedule


def schedule_run_list(*, actor: Actor, schedule: Schedule) -> QuerySet[ScheduleRun]:
    require_perm(actor, "schedules.view_schedule")
    return ScheduleRun.objects.filter(schedule=schedule).select_related("requested_by")


def schedule_next_run(*, schedule: Schedule, after: datetime | None = None) -> datetime | None:
    """When beat fires ``schedule`` next; None while it is disabled."""
    if not schedule.is_enabled:
        return None
    tz = cron.timezone_get(schedule.timezone)
    parts = schedule.cron.split()
    if tz is None or len(parts) != len(cron.FIELDS):
        return None
    # Validated when saved; only cronsim is needed to read it.
    fields = cron.CronFields(*parts)
    runs = cron.cron_next_runs(fields=fields, tz=tz, after=after or django_timezone.now(), count=1)
    return runs[0] if runs else None


@dataclass(frozen=True)
class SchedulePreview:
    cron: str
    timezone: str
    runs: list[datetime]


def schedule_preview(
    *,
    actor: Actor,
    cron_expression: str,
    timezone: str,
    count: int = 5,
    after: datetime | None = None,
) -> SchedulePreview:
    """The next ``count`` runs of an expression, aware in ``timezone``.

    Raises ValidationError (fields cron, timezone) exactly as saving a schedule would.
    """
    require_perm(actor, "schedules.view_schedule")
    errors: dict[str, list[str]] = {}
    fields = None
    try:
        fields = cron.cron_parse(cron_expression)
    except cron.CronError as error:
        errors["cron"] = [str(error)]
    tz = cron.timezone_get(timezone)
    if tz is None:
        errors["timezone"] = [cron.timezone_unknown_message(timezone)]
    if fields is None or tz is None:
        raise ValidationError(errors)
    count = max(1, min(count, cron.MAX_PREVIEW_COUNT))
    runs = cron.cron_next_runs(
        fields=fields, tz=tz, after=after or django_timezone.now(), count=count
    )
    return SchedulePreview(cron=fields.expression, timezone=timezone, runs=runs)


def schedulable_task_list(*, actor: Actor) -> list[registry.SchedulableTask]:
    require_perm(actor, "schedules.view_schedule")
    return registry.schedulable_task_list()
