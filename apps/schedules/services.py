"""Schedules: create, change, delete, fire. Each write keeps the tenant's Schedule row and
its beat entry in the public schema in one transaction (same database, two schemas),
so beat never sends a schedule that does not exist or misses one that does."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.accounts.selectors import require_perm
from apps.core.tenancy import in_public, require_tenant_schema
from apps.core.types import Actor
from apps.jobs.dispatch import enqueue
from apps.schedules import cron, registry
from apps.schedules.errors import ScheduleNameTakenError, ScheduleTaskUnavailableError
from apps.schedules.models import Schedule, ScheduleRun

if TYPE_CHECKING:
    from apps.tenants.models import Tenant

logger = logging.getLogger("tenantry.schedules")

FIRE_TASK = "schedules.fire"
FIRE_QUEUE = "high"
BEAT_ENTRY_PREFIX = "tenant:"


def beat_entry_name(*, schema_name: str, schedule_id: Any) -> str:
    return f"{BEAT_ENTRY_PREFIX}{schema_name}:{schedule_id}"


# --- validation -------------------------------------------------------------------------------


def _cleaned(
    *, task: str, params: Any, cron_expression: str, timezone: str
) -> tuple[dict[str, Any], str]:
    """(params as stored, cron as stored); every invalid field in one ValidationError."""
    errors: dict[str, Any] = {}
    stored_params: dict[str, Any] = {}
    entry = registry.schedulable_task_get(task)
    if entry is None:
        errors["task"] = [f"Unknown task {task!r}; GET /api/v1/schedules/tasks/ lists them."]
    elif not isinstance(params, Mapping):
        errors["params"] = ["Expected an object."]
    elif entry.params_serializer is None:
        if params:
            errors["params"] = [f"{task} takes no parameters."]
    else:
        serializer = entry.params_serializer(data=dict(params))
        if serializer.is_valid():
            # .data is the JSON form of the validated values (dates as ISO strings...).
            stored_params = dict(serializer.data)
        else:
            errors.update(_params_errors(serializer.errors))
    stored_cron = ""
    try:
        stored_cron = cron.cron_parse(cron_expression).expression
    except cron.CronError as error:
        errors["cron"] = [str(error)]
    if cron.timezone_get(timezone) is None:
        errors["timezone"] = [cron.timezone_unknown_message(timezone)]
    if errors:
        raise ValidationError(errors)
    return stored_params, stored_cron


def _params_errors(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """A params serializer's errors as ``params.<name>`` fields (Django's ValidationError
    takes no nested dicts)."""
    flat: dict[str, list[str]] = {}
    for name, messages in errors.items():
        key = "params" if name == "non_field_errors" else f"params.{name}"
        items = messages if isinstance(messages, list) else [messages]
        flat[key] = [str(message) for message in items]
    return flat


# --- the beat entry (public schema) -----------------------------------------------------------


def _beat_entry_sync(*, schedule: Schedule, schema_name: str, cron_changed: bool) -> None:
    fields = cron.cron_parse(schedule.cron)
    crontab_values = {
        "minute": fields.minute,
        "hour": fields.hour,
        "day_of_month": fields.day_of_month,
        "month_of_year": fields.month_of_year,
        "day_of_week": fields.day_of_week,
        "timezone": cron.timezone_get(schedule.timezone),
    }
    name = beat_entry_name(schema_name=schema_name, schedule_id=schedule.pk)
    with in_public():
        entry = PeriodicTask.objects.select_related("crontab").filter(name=name).first()
        crontab = entry.crontab if entry is not None else None
        # Each entry owns its crontab row: a shared one would change (or, deleted,
        # cascade to) another tenant's entry.
        if crontab is None or (
            PeriodicTask.objects.filter(crontab=crontab).exclude(name=name).exists()
        ):
            crontab = CrontabSchedule(**crontab_values)
        else:
            for attribute, value in crontab_values.items():
                setattr(crontab, attribute, value)
        crontab.save()
        if entry is None:
            entry = PeriodicTask(name=name)
        entry.task = FIRE_TASK
        entry.queue = FIRE_QUEUE
        entry.crontab = crontab
        entry.kwargs = json.dumps({"schema_name": schema_name, "schedule_id": str(schedule.pk)})
        entry.enabled = schedule.is_enabled
        entry.description = schedule.name
        if cron_changed and schedule.is_enabled:
            # Next run counts from now: an older last run would make beat "catch up"
            # on a slot of the new expression that passed before the change.
            entry.last_run_at = django_timezone.now()
        entry.save()


def _beat_entry_delete(*, name: str) -> None:
    with in_public():
        entry = PeriodicTask.objects.select_related("crontab").filter(name=name).first()
        if entry is None:
            return
        crontab = entry.crontab
        entry.delete()
        if crontab is not None and not PeriodicTask.objects.filter(crontab=crontab).exists():
            crontab.delete()


def beat_entries_delete_for_schema(*, schema_name: str) -> int:
    """Remove every beat entry of ``schema_name`` (for a tenant being deleted)."""
    with in_public():
        names = list(
            PeriodicTask.objects.filter(
                name__startswith=f"{BEAT_ENTRY_PREFIX}{schema_name}:"
            ).values_list("name", flat=True)
        )
    for name in names:
        _beat_entry_delete(name=name)
    return len(names)


# --- create, change, delete -------------------------------------------------------------------


def _save_unique_name(schedule: Schedule) -> None:
    def name_taken() -> bool:
        return Schedule.objects.filter(name=schedule.name).exclude(pk=schedule.pk).exists()

    if name_taken():
        raise ScheduleNameTakenError(name=schedule.name)
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError as error:
        # A concurrent save took the name between the check and the insert.
        if name_taken():
            raise ScheduleNameTakenError(name=schedule.name) from error
        raise


@transaction.atomic
def schedule_create(
    *,
    actor: Actor,
    tenant: Tenant,
    name: str,
    task: str,
    cron_expression: str,
    timezone: str | None = None,
    params: Mapping[str, Any] | None = None,
    is_enabled: bool = True,
) -> Schedule:
    """Create a schedule and its beat entry. ``timezone`` defaults to the tenant's.

    Raises ValidationError (fields task, params, cron, timezone) or ScheduleNameTakenError.
    """
    require_perm(actor, "schedules.add_schedule")
    schema_name = require_tenant_schema()
    timezone = timezone or tenant.time_zone
    stored_params, stored_cron = _cleaned(
        task=task, params=params or {}, cron_expression=cron_expression, timezone=timezone
    )
    schedule = Schedule(
        name=name,
        task=task,
        params=stored_params,
        cron=stored_cron,
        timezone=timezone,
        is_enabled=is_enabled,
        created_by=actor.user,
        updated_by=actor.user,
    )
    _save_unique_name(schedule)
    _beat_entry_sync(schedule=schedule, schema_name=schema_name, cron_changed=True)
    return schedule


UPDATABLE_FIELDS = ("name", "task", "params", "cron", "timezone", "is_enabled")


@transaction.atomic
def schedule_update(*, actor: Actor, schedule: Schedule, data: Mapping[str, Any]) -> Schedule:
    """Change any of UPDATABLE_FIELDS (``cron`` for the expression); the beat entry follows.

    Disabling keeps the beat entry, switched off. Raises like schedule_create.
    """
    require_perm(actor, "schedules.change_schedule")
    schema_name = require_tenant_schema()
    unknown = set(data) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {sorted(unknown)}")
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    task = data.get("task", schedule.task)
    params = data.get("params", schedule.params)
    timezone = data.get("timezone", schedule.timezone)
    stored_params, stored_cron = _cleaned(
        task=task,
        params=params,
        cron_expression=data.get("cron", schedule.cron),
        timezone=timezone,
    )
    cron_changed = (stored_cron, timezone) != (schedule.cron, schedule.timezone)
    schedule.name = data.get("name", schedule.name)
    schedule.task = task
    schedule.params = stored_params
    schedule.cron = stored_cron
    schedule.timezone = timezone
    schedule.is_enabled = data.get("is_enabled", schedule.is_enabled)
    schedule.updated_by = actor.user
    _save_unique_name(schedule)
    _beat_entry_sync(schedule=schedule, schema_name=schema_name, cron_changed=cron_changed)
    return schedule


@transaction.atomic
def schedule_delete(*, actor: Actor, schedule: Schedule) -> None:
    """Delete the schedule, its runs and its beat entry."""
    require_perm(actor, "schedules.delete_schedule")
    schema_name = require_tenant_schema()
    _beat_entry_delete(name=beat_entry_name(schema_name=schema_name, schedule_id=schedule.pk))
    schedule.delete()


# --- firing -----------------------------------------------------------------------------------


def _run_start(
    *,
    schedule: Schedule,
    source: str,
    requested_by: Any = None,
    message_id: str | None = None,
) -> ScheduleRun:
    entry = registry.schedulable_task_get(schedule.task)
    if entry is None:
        raise ScheduleTaskUnavailableError(task=schedule.task)
    now = django_timezone.now()
    run = ScheduleRun.objects.create(
        schedule=schedule,
        source=source,
        task=schedule.task,
        fired_at=now,
        requested_by=requested_by,
        message_id=message_id,
    )
    kwargs = dict(schedule.params)
    if entry.takes_run_id:
        kwargs["schedule_run_id"] = str(run.pk)
    enqueue(entry.task, **kwargs)
    Schedule.objects.filter(pk=schedule.pk).update(last_run_at=now)
    schedule.last_run_at = now
    return run


@transaction.atomic
def schedule_run_now(*, actor: Actor, schedule: Schedule) -> ScheduleRun:
    """Enqueue the schedule's task once, now, whether or not the schedule is enabled.

    Raises ScheduleTaskUnavailableError when no app offers the task any more.
    """
    require_perm(actor, "schedules.change_schedule")
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    return _run_start(schedule=schedule, source=ScheduleRun.Source.RUN_NOW, requested_by=actor.user)


@transaction.atomic
def schedule_fire(*, schedule_id: Any, message_id: str | None = None) -> ScheduleRun | None:
    """Beat's firing of ``schedule_id`` in the current tenant schema: at most once per message.

    None (and nothing enqueued) when the id is not a schedule of this schema, the
    schedule is disabled, its task is gone, or this message was already handled.
    """
    try:
        schedule_pk = uuid.UUID(str(schedule_id))
    except ValueError:
        logger.warning("Beat fired a malformed schedule id %r", schedule_id)
        return None
    # The row lock makes a redelivery wait for the first delivery, then see its run.
    schedule = Schedule.objects.select_for_update().filter(pk=schedule_pk).first()
    if schedule is None:
        logger.warning("Beat fired schedule %s, which this schema does not have", schedule_pk)
        return None
    if not schedule.is_enabled:
        return None
    if message_id and ScheduleRun.objects.filter(message_id=message_id).exists():
        return None
    try:
        return _run_start(schedule=schedule, source=ScheduleRun.Source.BEAT, message_id=message_id)
    except ScheduleTaskUnavailableError:
        logger.error("Schedule %s names task %r, which no app offers", schedule.pk, schedule.task)
        return None


def schedule_run_finish(*, schedule_run_id: Any, finished_at: datetime | None = None) -> bool:
    """Mark a run finished; True the first time only (safe to call on redelivery)."""
    updated = ScheduleRun.objects.filter(pk=schedule_run_id, finished_at__isnull=True).update(
        finished_at=finished_at or django_timezone.now()
    )
    return updated == 1
