"""The dispatcher beat calls, and the heartbeat it can enqueue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from celery.utils.time import remaining

from apps.core.errors import TenantContextMissingError
from apps.core.tenancy import in_tenant
from apps.jobs.models import OutboxMessage
from apps.schedules import tasks
from apps.schedules.models import Schedule, ScheduleRun
from apps.schedules.tests.conftest import actor_of, beat_entry, beat_kwargs
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _nothing_ran(schema_name: str) -> bool:
    with in_tenant(schema_name):
        return not ScheduleRun.objects.exists() and not OutboxMessage.objects.exists()


def test_fire_with_the_beat_entry_kwargs_runs_the_schedule_in_its_tenant(make_schedule):
    schedule = make_schedule(TENANT_A)
    kwargs = beat_kwargs(beat_entry(TENANT_A, schedule.pk))

    tasks.fire.apply(kwargs=kwargs, task_id="beat-message-1")

    with in_tenant(TENANT_A):
        run = ScheduleRun.objects.get()
        message = OutboxMessage.objects.get()
        assert (run.schedule_id, run.source, run.message_id) == (
            schedule.pk,
            "beat",
            "beat-message-1",
        )
        assert message.task_name == "schedules.heartbeat"
        assert message.kwargs == {
            "schema_name": "alpha",
            "note": "hello",
            "schedule_run_id": str(run.pk),
        }
        assert Schedule.objects.get(pk=schedule.pk).last_run_at == run.fired_at
    assert _nothing_ran(TENANT_B)


def test_a_redelivered_beat_message_fires_once(make_schedule):
    schedule = make_schedule(TENANT_A)
    kwargs = beat_kwargs(beat_entry(TENANT_A, schedule.pk))

    tasks.fire.apply(kwargs=kwargs, task_id="beat-message-1")
    tasks.fire.apply(kwargs=kwargs, task_id="beat-message-1")
    tasks.fire.apply(kwargs=kwargs, task_id="beat-message-2")

    with in_tenant(TENANT_A):
        assert sorted(ScheduleRun.objects.values_list("message_id", flat=True)) == [
            "beat-message-1",
            "beat-message-2",
        ]
        assert OutboxMessage.objects.count() == 2


def test_fire_refuses_a_schedule_of_another_tenant(make_schedule):
    schedule_of_b = make_schedule(TENANT_B)

    tasks.fire(schema_name=TENANT_A, schedule_id=str(schedule_of_b.pk))

    assert _nothing_ran(TENANT_A)
    assert _nothing_ran(TENANT_B)


def test_fire_of_a_disabled_schedule_does_nothing(make_schedule):
    schedule = make_schedule(TENANT_A, is_enabled=False)

    tasks.fire(schema_name=TENANT_A, schedule_id=str(schedule.pk))

    assert _nothing_ran(TENANT_A)


def test_fire_of_a_deleted_schedule_does_nothing(make_schedule):
    from apps.schedules.services import schedule_delete

    schedule = make_schedule(TENANT_A)
    kwargs = beat_kwargs(beat_entry(TENANT_A, schedule.pk))
    with in_tenant(TENANT_A):
        schedule_delete(actor=actor_of(TENANT_A, "admin"), schedule=schedule)

    tasks.fire(**kwargs)

    assert _nothing_ran(TENANT_A)


@pytest.mark.parametrize("schedule_id", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_fire_of_an_unknown_schedule_does_nothing(schedule_id):
    tasks.fire(schema_name=TENANT_A, schedule_id=schedule_id)

    assert _nothing_ran(TENANT_A)


def test_fire_of_a_task_no_app_offers_does_nothing(make_schedule):
    schedule = make_schedule(TENANT_A)
    with in_tenant(TENANT_A):
        Schedule.objects.filter(pk=schedule.pk).update(task="reports.retired")

    tasks.fire(schema_name=TENANT_A, schedule_id=str(schedule.pk))

    assert _nothing_ran(TENANT_A)


@pytest.mark.parametrize("schema_name", [None, "", "public"])
def test_fire_without_a_tenant_is_refused(make_schedule, schema_name):
    schedule = make_schedule(TENANT_A)

    with pytest.raises(TenantContextMissingError):
        tasks.fire(schema_name=schema_name, schedule_id=str(schedule.pk))

    assert _nothing_ran(TENANT_A)


def test_heartbeat_marks_its_run_finished_once(make_schedule):
    from apps.schedules.services import schedule_run_now

    schedule = make_schedule(TENANT_A)
    with in_tenant(TENANT_A):
        run = schedule_run_now(actor=actor_of(TENANT_A, "admin"), schedule=schedule)
        kwargs = OutboxMessage.objects.get().kwargs

    tasks.heartbeat(**kwargs)
    with in_tenant(TENANT_A):
        first = ScheduleRun.objects.get(pk=run.pk).finished_at
    tasks.heartbeat(**kwargs)

    with in_tenant(TENANT_A):
        assert first is not None
        assert ScheduleRun.objects.get(pk=run.pk).finished_at == first


def test_beat_reads_the_entry_as_the_preview_does_across_dst(make_schedule):
    """django-celery-beat's crontab for the entry fires when cronsim's preview says."""
    from apps.schedules.selectors import schedule_next_run

    schedule = make_schedule(TENANT_A, cron_expression="0 9 * * *", timezone="America/New_York")
    beat_schedule = beat_entry(TENANT_A, schedule.pk).crontab.schedule
    moment = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)

    beat_runs, preview_runs = [], []
    for _ in range(4):
        beat_schedule.nowfun = lambda moment=moment: moment
        next_beat = moment + remaining(*beat_schedule.remaining_delta(moment))
        beat_runs.append(next_beat.astimezone(UTC))
        preview_runs.append(schedule_next_run(schedule=schedule, after=moment).astimezone(UTC))
        moment = next_beat + timedelta(seconds=1)

    assert beat_runs == preview_runs
    assert [run.strftime("%m-%d %H:%M") for run in beat_runs] == [
        "03-06 14:00",
        "03-07 14:00",
        "03-08 13:00",
        "03-09 13:00",
    ]
