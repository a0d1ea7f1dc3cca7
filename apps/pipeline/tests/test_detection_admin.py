"""The detection admin: lists open for the tenant admin, a rule is saved through the
services' checks, alarms are read-only but for the clear action."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.pipeline.models import Alarm, DetectionRule, ZoneWaterBalance
from tests.personas import HOSTS, PASSWORD, TENANT_B

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(pipeline_network) -> Client:
    client = Client(HTTP_HOST=HOSTS[TENANT_B])
    # Through the host's login page: Client.login() would authenticate in public.
    response = client.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def _rule_form(network, **changes) -> dict:
    data = {
        "name": "Admin rule",
        "kind": "threshold_high",
        "sensor": str(network.north_flow.pk),
        "zone": "",
        "threshold": "90",
        "window_minutes": "15",
        "severity": "medium",
        "is_active": "on",
    }
    data.update(changes)
    return data


def test_lists_open(admin_client, pipeline_network):
    from datetime import date

    DetectionRule.objects.create(
        name="listed-rule", kind="night_flow", zone=pipeline_network.north, threshold=2.0
    )
    Alarm.objects.create(
        kind="night_flow",
        severity="low",
        zone=pipeline_network.north,
        message="listed-alarm",
    )
    ZoneWaterBalance.objects.create(zone=pipeline_network.south, day=date(2031, 1, 15))

    pages = {
        name: admin_client.get(f"/admin/pipeline/{name}/")
        for name in ("detectionrule", "alarm", "zonewaterbalance")
    }

    assert {name: page.status_code for name, page in pages.items()} == {
        "detectionrule": 200,
        "alarm": 200,
        "zonewaterbalance": 200,
    }
    assert "listed-rule" in pages["detectionrule"].content.decode()
    assert "SOUTH" in pages["zonewaterbalance"].content.decode()


def test_a_rule_is_saved_through_the_service_checks(admin_client, pipeline_network):
    refused = admin_client.post(
        "/admin/pipeline/detectionrule/add/",
        _rule_form(pipeline_network, zone=str(pipeline_network.north.pk)),
    )
    saved = admin_client.post("/admin/pipeline/detectionrule/add/", _rule_form(pipeline_network))

    assert refused.status_code == 200  # the form again, with its errors
    assert "Give a sensor or a zone, not both." in refused.content.decode()
    assert saved.status_code == 302, saved.content[:500]
    rule = DetectionRule.objects.get()
    assert (rule.name, rule.sensor_id, rule.threshold) == (
        "Admin rule",
        pipeline_network.north_flow.pk,
        90.0,
    )
    assert rule.created_by.username == "admin"


def test_the_clear_action_clears_active_alarms(admin_client, pipeline_network):
    alarm = Alarm.objects.create(
        kind="flow_imbalance", severity="high", zone=pipeline_network.north, message="m"
    )

    response = admin_client.post(
        "/admin/pipeline/alarm/",
        {"action": "clear_selected", "_selected_action": [str(alarm.pk)]},
    )

    assert response.status_code == 302
    alarm.refresh_from_db()
    assert alarm.status == "cleared"
