"""The tenant admin lists schedules and changes them only through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.core.tenancy import in_tenant
from apps.schedules.models import Schedule
from apps.schedules.tests.conftest import beat_entry
from tests.personas import HOSTS, PASSWORD, TENANT_A

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client(HTTP_HOST=HOSTS[TENANT_A])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_changelist_and_change_page_render(admin_client, make_schedule):
    schedule = make_schedule(TENANT_A)

    listed = admin_client.get("/admin/schedules/schedule/")
    shown = admin_client.get(f"/admin/schedules/schedule/{schedule.pk}/change/")
    runs = admin_client.get("/admin/schedules/schedulerun/")

    assert (listed.status_code, shown.status_code, runs.status_code) == (200, 200, 200)
    assert "Morning heartbeat" in listed.content.decode()


def test_disable_action_switches_the_beat_entry_off(admin_client, make_schedule):
    schedule = make_schedule(TENANT_A)

    response = admin_client.post(
        "/admin/schedules/schedule/",
        {"action": "disable", "_selected_action": [str(schedule.pk)]},
    )

    assert response.status_code == 302
    with in_tenant(TENANT_A):
        assert Schedule.objects.get(pk=schedule.pk).is_enabled is False
    assert beat_entry(TENANT_A, schedule.pk).enabled is False


def test_delete_removes_the_beat_entry(admin_client, make_schedule):
    schedule = make_schedule(TENANT_A)

    response = admin_client.post(
        f"/admin/schedules/schedule/{schedule.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    with in_tenant(TENANT_A):
        assert not Schedule.objects.filter(pk=schedule.pk).exists()
    assert beat_entry(TENANT_A, schedule.pk) is None
