"""Schedule writes keep the tenant row and its public beat entry in step."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.core.errors import PermissionDeniedError
from apps.core.tenancy import in_public, in_tenant
from apps.jobs.models import OutboxMessage
from apps.schedules import services
from apps.schedules.errors import ScheduleNameTakenError, ScheduleTaskUnavailableError
from apps.schedules.models import Schedule, ScheduleRun
from apps.schedules.tests.conftest import actor_of, beat_entry, beat_kwargs
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _beat_entry_count() -> int:
    with in_public():
        return PeriodicTask.objects.filter(name__startswith="tenant:").count()


def test_create_writes_the_schedule_and_a_beat_entry_that_names_its_tenant(make_schedule):
    schedule = make_schedule(TENANT_A, cron_expression="*/15 9-17 * * 1-5")

    entry = beat_entry(TENANT_A, schedule.pk)
    assert entry.name == f"tenant:alpha:{schedule.pk}"
    assert entry.task == "schedules.fire"
    assert entry.queue == "high"
    assert entry.enabled is True
    assert beat_kwargs(entry) == {"schema_name": "alpha", "schedule_id": str(schedule.pk)}
    crontab = entry.crontab
    assert (
        crontab.minute,
        crontab.hour,
        crontab.day_of_month,
        crontab.month_of_year,
        crontab.day_of_week,
    ) == ("*/15", "9-17", "*", "*", "1-5")
    assert crontab.timezone == ZoneInfo("America/New_York")
    with in_tenant(TENANT_A):
        stored = Schedule.objects.select_related("created_by").get(pk=schedule.pk)
    assert stored.params == {"note": "hello"}
    assert stored.cron == "*/15 9-17 * * 1-5"
    assert stored.created_by.username == "admin"


def test_timezone_defaults_to_the_tenants(tenant_a):
    tenant_a.time_zone = "Asia/Tokyo"  # not saved: the service reads the object it is given

    with in_tenant(TENANT_A):
        schedule = services.schedule_create(
            actor=actor_of(TENANT_A, "admin"),
            tenant=tenant_a,
            name="Tokyo",
            task="schedules.heartbeat",
            cron_expression="0 9 * * *",
        )

    assert schedule.timezone == "Asia/Tokyo"
    assert beat_entry(TENANT_A, schedule.pk).crontab.timezone == ZoneInfo("Asia/Tokyo")


def test_params_are_stored_as_the_task_reads_them(make_schedule):
    schedule = make_schedule(TENANT_A, params={})

    assert schedule.params == {"note": ""}


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"cron_expression": "0 9 * *"}, {"cron"}),
        ({"cron_expression": "0 25 * * *"}, {"cron"}),
        ({"timezone": "Mars/Olympus_Mons"}, {"timezone"}),
        ({"task": "reports.nope"}, {"task"}),
        ({"params": {"colour": "red"}}, {"params.colour"}),
        ({"params": {"note": "x" * 201}}, {"params.note"}),
        (
            {"cron_expression": "x", "timezone": "Nowhere", "task": "nope"},
            {"cron", "timezone", "task"},
        ),
    ],
    ids=["cron-fields", "cron-range", "timezone", "task", "param-unknown", "param-long", "all"],
)
def test_invalid_input_names_every_bad_field_and_writes_nothing(make_schedule, overrides, fields):
    with pytest.raises(ValidationError) as raised:
        make_schedule(TENANT_A, **overrides)

    assert set(raised.value.message_dict) == fields
    with in_tenant(TENANT_A):
        assert not Schedule.objects.exists()
    assert _beat_entry_count() == 0


def test_names_are_unique_per_tenant(make_schedule):
    make_schedule(TENANT_A, name="Nightly")
    make_schedule(TENANT_B, name="Nightly")  # another tenant may use the name

    with pytest.raises(ScheduleNameTakenError):
        make_schedule(TENANT_A, name="Nightly")

    with in_tenant(TENANT_A):
        assert Schedule.objects.filter(name="Nightly").count() == 1
    assert _beat_entry_count() == 2


@pytest.mark.parametrize("persona", ["staff", "outsider"])
def test_only_permitted_actors_create(tenant_a, persona):
    with in_tenant(TENANT_A), pytest.raises(PermissionDeniedError):
        services.schedule_create(
            actor=actor_of(TENANT_A, persona),
            tenant=tenant_a,
            name="Sneaky",
            task="schedules.heartbeat",
            cron_expression="* * * * *",
        )

    with in_tenant(TENANT_A):
        assert not Schedule.objects.exists()
    assert _beat_entry_count() == 0


def test_changing_the_cron_updates_the_crontab_in_place(make_schedule):
    schedule = make_schedule(TENANT_A)
    before = beat_entry(TENANT_A, schedule.pk)

    with in_tenant(TENANT_A):
        services.schedule_update(
            actor=actor_of(TENANT_A, "admin"),
            schedule=schedule,
            data={"cron": "30 7 * * 1-5", "timezone": "Europe/Berlin"},
        )

    after = beat_entry(TENANT_A, schedule.pk)
    assert after.pk == before.pk
    assert after.crontab_id == before.crontab_id
    assert (after.crontab.minute, after.crontab.hour, after.crontab.day_of_week) == (
        "30",
        "7",
        "1-5",
    )
    assert after.crontab.timezone == ZoneInfo("Europe/Berlin")
    assert after.last_run_at is not None  # the new expression counts from the change
    with in_tenant(TENANT_A):
        assert Schedule.objects.get(pk=schedule.pk).cron == "30 7 * * 1-5"


def test_disabling_switches_the_beat_entry_off_and_enabling_back_on(make_schedule):
    schedule = make_schedule(TENANT_A)
    admin = actor_of(TENANT_A, "admin")

    with in_tenant(TENANT_A):
        services.schedule_update(actor=admin, schedule=schedule, data={"is_enabled": False})
    disabled = beat_entry(TENANT_A, schedule.pk)
    with in_tenant(TENANT_A):
        services.schedule_update(actor=admin, schedule=schedule, data={"is_enabled": True})
    enabled = beat_entry(TENANT_A, schedule.pk)

    assert disabled.enabled is False
    assert enabled.enabled is True
    assert enabled.pk == disabled.pk


def test_invalid_change_leaves_row_and_beat_entry_as_they_were(make_schedule):
    schedule = make_schedule(TENANT_A)

    with in_tenant(TENANT_A), pytest.raises(ValidationError):
        services.schedule_update(
            actor=actor_of(TENANT_A, "admin"),
            schedule=schedule,
            data={"cron": "0 9 * * 7", "is_enabled": False},
        )

    with in_tenant(TENANT_A):
        assert Schedule.objects.get(pk=schedule.pk).is_enabled is True
    entry = beat_entry(TENANT_A, schedule.pk)
    assert (entry.enabled, entry.crontab.day_of_week) == (True, "*")


def test_changing_the_task_revalidates_the_params(make_schedule):
    schedule = make_schedule(TENANT_A)

    with in_tenant(TENANT_A), pytest.raises(ValidationError) as raised:
        services.schedule_update(
            actor=actor_of(TENANT_A, "admin"), schedule=schedule, data={"task": "nope.nothing"}
        )

    assert set(raised.value.message_dict) == {"task"}


def test_delete_removes_the_row_its_runs_and_the_beat_entry(make_schedule):
    schedule = make_schedule(TENANT_A)
    crontab_id = beat_entry(TENANT_A, schedule.pk).crontab_id
    with in_tenant(TENANT_A):
        services.schedule_run_now(actor=actor_of(TENANT_A, "admin"), schedule=schedule)

        services.schedule_delete(actor=actor_of(TENANT_A, "admin"), schedule=schedule)

        assert not Schedule.objects.filter(pk=schedule.pk).exists()
        assert not ScheduleRun.objects.exists()
    assert beat_entry(TENANT_A, schedule.pk) is None
    with in_public():
        assert not CrontabSchedule.objects.filter(pk=crontab_id).exists()


def test_a_crontab_shared_with_another_entry_is_never_changed_or_deleted(make_schedule):
    schedule = make_schedule(TENANT_A)
    shared = beat_entry(TENANT_A, schedule.pk).crontab
    with in_public():
        other = PeriodicTask.objects.create(name="platform:report", task="x.y", crontab=shared)
    admin = actor_of(TENANT_A, "admin")

    with in_tenant(TENANT_A):
        services.schedule_update(actor=admin, schedule=schedule, data={"cron": "5 5 * * *"})
        services.schedule_delete(actor=admin, schedule=schedule)

    with in_public():
        other.refresh_from_db()
        assert (other.crontab_id, other.crontab.minute, other.crontab.hour) == (shared.pk, "0", "9")


def test_beat_entries_of_a_schema_can_be_removed_together(make_schedule):
    make_schedule(TENANT_A, name="one")
    make_schedule(TENANT_A, name="two")
    kept = make_schedule(TENANT_B, name="one")

    removed = services.beat_entries_delete_for_schema(schema_name=TENANT_A)

    assert removed == 2
    assert _beat_entry_count() == 1
    assert beat_entry(TENANT_B, kept.pk) is not None


def test_run_now_records_a_run_and_enqueues_the_task_with_its_params(make_schedule):
    schedule = make_schedule(TENANT_A)

    with in_tenant(TENANT_A):
        run = services.schedule_run_now(actor=actor_of(TENANT_A, "admin"), schedule=schedule)

        message = OutboxMessage.objects.get()
        stored = Schedule.objects.get(pk=schedule.pk)
        assert (run.source, run.task, run.requested_by.username) == (
            "run_now",
            "schedules.heartbeat",
            "admin",
        )
        assert message.task_name == "schedules.heartbeat"
        assert message.kwargs == {
            "schema_name": "alpha",
            "note": "hello",
            "schedule_run_id": str(run.pk),
        }
        assert stored.last_run_at == run.fired_at


def test_run_now_works_while_disabled(make_schedule):
    schedule = make_schedule(TENANT_A, is_enabled=False)

    with in_tenant(TENANT_A):
        run = services.schedule_run_now(actor=actor_of(TENANT_A, "admin"), schedule=schedule)

        assert OutboxMessage.objects.get().kwargs["schedule_run_id"] == str(run.pk)


def test_run_now_of_a_task_no_app_offers_fails_and_enqueues_nothing(make_schedule):
    schedule = make_schedule(TENANT_A)
    with in_tenant(TENANT_A):
        Schedule.objects.filter(pk=schedule.pk).update(task="reports.retired")
        schedule.refresh_from_db()

        with pytest.raises(ScheduleTaskUnavailableError):
            services.schedule_run_now(actor=actor_of(TENANT_A, "admin"), schedule=schedule)

        assert not ScheduleRun.objects.exists()
        assert not OutboxMessage.objects.exists()


def test_staff_cannot_run_now(make_schedule):
    schedule = make_schedule(TENANT_A)

    with in_tenant(TENANT_A):
        with pytest.raises(PermissionDeniedError):
            services.schedule_run_now(actor=actor_of(TENANT_A, "staff"), schedule=schedule)

        assert not ScheduleRun.objects.exists()
        assert not OutboxMessage.objects.exists()
