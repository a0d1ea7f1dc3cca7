"""The /api/v1/schedules/ contract: status codes, error codes, shapes."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from apps.core.tenancy import in_public, in_tenant
from apps.jobs.models import OutboxMessage
from apps.schedules.models import Schedule, ScheduleRun
from apps.schedules.tests.conftest import beat_entry, error_of
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Weekday heartbeat",
    "task": "schedules.heartbeat",
    "cron": "0 9 * * 1-5",
    "timezone": "America/New_York",
    "params": {"note": "hi"},
}


def _nothing_stored(schema_name: str) -> bool:
    with in_tenant(schema_name):
        stored = (
            Schedule.objects.exists()
            or ScheduleRun.objects.exists()
            or OutboxMessage.objects.exists()
        )
    with in_public():
        entries = PeriodicTask.objects.filter(name__startswith=f"tenant:{schema_name}:")
        return not stored and not entries.exists()


def test_create_answers_201_with_the_schedule(api_client):
    response = api_client(TENANT_A, "admin").post("/api/v1/schedules/", BODY, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in BODY} == BODY
    assert body["is_enabled"] is True
    assert body["created_by"] == "admin"
    assert body["last_run_at"] is None
    assert body["next_run_at"].endswith(("13:00:00Z", "14:00:00Z"))
    assert beat_entry(TENANT_A, body["id"]).enabled is True


def test_create_defaults_to_the_tenants_time_zone(api_client, tenant_a):
    body = {key: value for key, value in BODY.items() if key != "timezone"}

    response = api_client(TENANT_A, "admin").post("/api/v1/schedules/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["timezone"] == tenant_a.time_zone


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cron": "0 9 * *"}, "cron"),
        ({"cron": "0 9 * * * *"}, "cron"),
        ({"cron": "61 9 * * *"}, "cron"),
        ({"cron": "0 9 32 * *"}, "cron"),
        ({"cron": "every day at nine"}, "cron"),
        ({"cron": "@daily"}, "cron"),
        ({"cron": ""}, "cron"),
        ({"cron": 9}, "cron"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "america/new_york"}, "timezone"),
        ({"task": "reports.does-not-exist"}, "task"),
        ({"params": {"colour": "red"}}, "params.colour"),
        ({"params": "note=hi"}, "params"),
        ({"surprise": True}, "surprise"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_invalid_create_is_400_naming_the_field_and_stores_nothing(api_client, change, field):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/schedules/", {**BODY, **change}, format="json"
    )

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert _nothing_stored(TENANT_A)


def test_cron_error_says_what_is_wrong(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/schedules/", {**BODY, "cron": "0 24 * * *"}, format="json"
    )

    assert error_of(response)["fields"] == {
        "cron": ["Bad hour '24': allowed 0-23, with * , - and /."]
    }


def test_taken_name_is_409(api_client):
    client = api_client(TENANT_A, "admin")
    client.post("/api/v1/schedules/", BODY, format="json")

    response = client.post("/api/v1/schedules/", BODY, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "schedules.name_taken"


def test_list_and_detail(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)
    client = api_client(TENANT_A, "admin")

    listed = client.get("/api/v1/schedules/")
    detail = client.get(f"/api/v1/schedules/{schedule.pk}/")

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [str(schedule.pk)]
    assert detail.status_code == 200
    assert detail.json()["cron"] == "0 9 * * *"


def test_list_filters_by_enabled(api_client, make_schedule):
    make_schedule(TENANT_A, name="on")
    make_schedule(TENANT_A, name="off", is_enabled=False)

    response = api_client(TENANT_A, "admin").get("/api/v1/schedules/", {"is_enabled": "false"})

    assert [row["name"] for row in response.json()["results"]] == ["off"]


@pytest.mark.parametrize("value", ["", "yes", "1"])
def test_list_refuses_a_flag_that_is_not_true_or_false(api_client, value):
    response = api_client(TENANT_A, "admin").get("/api/v1/schedules/", {"is_enabled": value})

    assert response.status_code == 400
    assert "is_enabled" in error_of(response)["fields"]


def test_patch_changes_the_cron_and_the_beat_entry(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/schedules/{schedule.pk}/", {"cron": "15 6 * * *"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["cron"] == "15 6 * * *"
    crontab = beat_entry(TENANT_A, schedule.pk).crontab
    assert (crontab.minute, crontab.hour) == ("15", "6")


def test_patch_is_enabled_disables_and_enables(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)
    client = api_client(TENANT_A, "admin")
    path = f"/api/v1/schedules/{schedule.pk}/"

    disabled = client.patch(path, {"is_enabled": False}, format="json")
    entry_disabled = beat_entry(TENANT_A, schedule.pk).enabled
    enabled = client.patch(path, {"is_enabled": True}, format="json")

    assert (disabled.json()["is_enabled"], disabled.json()["next_run_at"]) == (False, None)
    assert entry_disabled is False
    assert enabled.json()["is_enabled"] is True
    assert enabled.json()["next_run_at"] is not None
    assert beat_entry(TENANT_A, schedule.pk).enabled is True


def test_invalid_patch_is_400_and_changes_nothing(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/schedules/{schedule.pk}/", {"cron": "0 9 * * 8", "name": "x"}, format="json"
    )

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"cron"}
    with in_tenant(TENANT_A):
        assert Schedule.objects.get(pk=schedule.pk).name == "Morning heartbeat"
    assert beat_entry(TENANT_A, schedule.pk).crontab.day_of_week == "*"


def test_delete_is_204_and_removes_the_beat_entry(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)

    response = api_client(TENANT_A, "admin").delete(f"/api/v1/schedules/{schedule.pk}/")

    assert response.status_code == 204
    assert _nothing_stored(TENANT_A)


def test_run_now_is_202_and_enqueues(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)

    response = api_client(TENANT_A, "admin").post(f"/api/v1/schedules/{schedule.pk}/run/")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["schedule"], body["source"], body["requested_by"]) == (
        str(schedule.pk),
        "run_now",
        "admin",
    )
    with in_tenant(TENANT_A):
        assert OutboxMessage.objects.get().kwargs == {
            "schema_name": "alpha",
            "note": "hello",
            "schedule_run_id": body["id"],
        }


def test_runs_lists_the_history_newest_first(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)
    client = api_client(TENANT_A, "admin")
    first = client.post(f"/api/v1/schedules/{schedule.pk}/run/").json()
    second = client.post(f"/api/v1/schedules/{schedule.pk}/run/").json()

    response = client.get(f"/api/v1/schedules/{schedule.pk}/runs/")

    assert response.status_code == 200
    assert [run["id"] for run in response.json()["results"]] == [second["id"], first["id"]]


def test_preview_gives_exact_times_in_the_zone_and_in_utc(api_client):
    response = api_client(TENANT_A, "admin").get(
        "/api/v1/schedules/preview/",
        {
            "cron": "0 9 * * *",
            "timezone": "America/New_York",
            "count": 4,
            "after": "2026-03-06T12:00:00Z",
        },
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "cron": "0 9 * * *",
        "timezone": "America/New_York",
        "runs": [
            {"local": "2026-03-06T09:00:00-05:00", "utc": "2026-03-06T14:00:00Z"},
            {"local": "2026-03-07T09:00:00-05:00", "utc": "2026-03-07T14:00:00Z"},
            {"local": "2026-03-08T09:00:00-04:00", "utc": "2026-03-08T13:00:00Z"},
            {"local": "2026-03-09T09:00:00-04:00", "utc": "2026-03-09T13:00:00Z"},
        ],
    }


def test_preview_defaults_to_five_runs_in_the_tenants_zone(api_client, tenant_a):
    response = api_client(TENANT_A, "admin").get(
        "/api/v1/schedules/preview/", {"cron": "*/10 * * * *"}
    )

    assert response.status_code == 200
    assert response.json()["timezone"] == tenant_a.time_zone
    assert len(response.json()["runs"]) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cron": "0 9 * *"}, "cron"),
        ({"cron": "0 9 * * MON", "timezone": "Nowhere/Special"}, "timezone"),
        ({"cron": "0 9 * * *", "count": 0}, "count"),
        ({"cron": "0 9 * * *", "count": 51}, "count"),
        ({"cron": "0 9 * * *", "after": "0001-01-01T00:00:00Z"}, "after"),
        ({}, "cron"),
    ],
    ids=["cron", "timezone", "count-low", "count-high", "after", "missing"],
)
def test_bad_preview_is_400_naming_the_field(api_client, query, field):
    response = api_client(TENANT_A, "admin").get("/api/v1/schedules/preview/", query)

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert field in error_of(response)["fields"]


def test_tasks_lists_the_registry(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/schedules/tasks/")

    assert response.status_code == 200
    heartbeat = next(t for t in response.json()["tasks"] if t["key"] == "schedules.heartbeat")
    assert heartbeat["params"] == [
        {
            "name": "note",
            "type": "string",
            "required": False,
            "help_text": "Written to the log with the heartbeat.",
            "choices": None,
        }
    ]


@pytest.mark.parametrize("persona", ["staff", "outsider"])
def test_only_admins_change_schedules(api_client, make_schedule, persona):
    schedule = make_schedule(TENANT_A)
    client = api_client(TENANT_A, persona)
    path = f"/api/v1/schedules/{schedule.pk}/"

    answers = [
        client.post("/api/v1/schedules/", {**BODY, "name": "sneaky"}, format="json"),
        client.patch(path, {"is_enabled": False}, format="json"),
        client.delete(path),
        client.post(f"{path}run/"),
    ]

    assert [response.status_code for response in answers] == [403, 403, 403, 403]
    assert {error_of(response)["code"] for response in answers} == {"permission_denied"}
    with in_tenant(TENANT_A):
        assert list(Schedule.objects.values_list("name", "is_enabled")) == [
            ("Morning heartbeat", True)
        ]
        assert not ScheduleRun.objects.exists()
        assert not OutboxMessage.objects.exists()
    assert beat_entry(TENANT_A, schedule.pk).enabled is True


def test_outsider_sees_nothing(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)
    client = api_client(TENANT_A, "outsider")

    answers = [
        client.get("/api/v1/schedules/"),
        client.get(f"/api/v1/schedules/{schedule.pk}/"),
        client.get(f"/api/v1/schedules/{schedule.pk}/runs/"),
        client.get("/api/v1/schedules/preview/", {"cron": "* * * * *"}),
        client.get("/api/v1/schedules/tasks/"),
    ]

    assert [response.status_code for response in answers] == [403] * 5


def test_admin_of_another_tenant_cannot_see_change_or_run(api_client, make_schedule):
    schedule = make_schedule(TENANT_A)
    client = api_client(TENANT_B, "admin")
    path = f"/api/v1/schedules/{schedule.pk}/"

    answers = [
        client.get(path),
        client.patch(path, {"is_enabled": False}, format="json"),
        client.post(f"{path}run/"),
        client.get(f"{path}runs/"),
        client.delete(path),
    ]
    listed = client.get("/api/v1/schedules/")

    assert [response.status_code for response in answers] == [404] * 5
    assert {error_of(response)["code"] for response in answers} == {"not_found"}
    assert listed.json()["results"] == []
    with in_tenant(TENANT_A):
        assert Schedule.objects.get(pk=schedule.pk).is_enabled is True
        assert not ScheduleRun.objects.exists()
    assert _nothing_stored(TENANT_B)
    assert beat_entry(TENANT_A, schedule.pk).enabled is True
