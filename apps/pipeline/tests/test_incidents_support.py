"""Around the incident services: realtime delivery through the realtime app, the beat
tasks, and the admin pages."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.pipeline.tests.conftest import pipeline_actor
from apps.pipeline.tests.helpers_incidents import incident_make, minutes, policy_make
from tests.personas import HOSTS, PASSWORD, TENANT_B

pytestmark = pytest.mark.django_db


def test_update_reaches_the_zone_audience_groups_after_commit(
    pipeline_network, zone_user, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.pipeline.services import incidents as services
    from apps.realtime import publish

    sent = []
    monkeypatch.setattr(publish, "_send", lambda groups, event: sent.append((groups, event)))
    watcher = zone_user(zones=[pipeline_network.north])
    incident = incident_make(pipeline_network.north)

    with django_capture_on_commit_callbacks(execute=True):
        services.incident_acknowledge(actor=pipeline_actor("admin"), incident=incident)

    groups, event = sent[-1]
    assert f"t.{TENANT_B}.user.{watcher.pk}" in groups
    assert all(group.startswith(f"t.{TENANT_B}.") for group in groups)
    assert event["type"] == "pipeline.incident.updated"
    assert event["tenant"] == TENANT_B
    assert event["payload"]["status"] == "acknowledged"
    assert event["payload"]["number"] == incident.number


def test_nothing_is_published_for_a_refused_transition(
    pipeline_network, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.pipeline.errors import InvalidTransitionError
    from apps.pipeline.services import incidents as services
    from apps.realtime import publish

    sent = []
    monkeypatch.setattr(publish, "_send", lambda groups, event: sent.append(event))
    incident = incident_make(pipeline_network.north)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidTransitionError):
        services.incident_close(actor=pipeline_actor("admin"), incident=incident)

    assert sent == []


def test_beat_tasks_run_in_the_tenant(pipeline_network):
    from apps.pipeline.models import IncidentEscalation
    from apps.pipeline.tasks import incidents as tasks
    from apps.pipeline.tests import factories as f

    oncall = f.user_make("oncall-task")
    policy_make(levels=[{"level": 1, "delay_minutes": 5, "user_ids": [oncall.pk]}])
    incident = incident_make(pipeline_network.north)
    due = (incident.opened_at + minutes(5)).isoformat()

    assert tasks.escalation_scan.apply(kwargs={"schema_name": TENANT_B, "now": due}).get() == 1
    assert IncidentEscalation.objects.filter(incident=incident).count() == 1
    expired = tasks.dispatch_offers_expire.apply(kwargs={"schema_name": TENANT_B, "now": due})
    assert expired.get() == 0


def test_beat_schedules_both_scans_for_pipeline_tenants(settings):
    entries = settings.CELERY_BEAT_SCHEDULE
    for name in ("pipeline.escalation_scan", "pipeline.dispatch_offers_expire"):
        assert entries[name]["task"] == "jobs.fanout"
        assert entries[name]["kwargs"]["task_name"] == name
        assert entries[name]["kwargs"]["module"] == "pipeline"


@pytest.fixture
def admin_client(in_tenant_b) -> Client:
    client = Client(HTTP_HOST=HOSTS[TENANT_B])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_admin_lists_and_acknowledges_incidents(admin_client, pipeline_network):
    from apps.pipeline.models import Incident

    incident = incident_make(pipeline_network.north)

    listing = admin_client.get("/admin/pipeline/incident/")
    assert listing.status_code == 200
    assert incident.number in listing.content.decode()
    assert admin_client.get(f"/admin/pipeline/incident/{incident.pk}/change/").status_code == 200
    response = admin_client.post(
        "/admin/pipeline/incident/",
        {"action": "acknowledge", "_selected_action": [str(incident.pk)]},
    )
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


def test_admin_shows_policies(admin_client, in_tenant_b):
    policy = policy_make(levels=[{"level": 1, "delay_minutes": 5, "role_slugs": ["manager"]}])

    assert admin_client.get("/admin/pipeline/escalationpolicy/").status_code == 200
    page = admin_client.get(f"/admin/pipeline/escalationpolicy/{policy.pk}/change/")
    assert page.status_code == 200
