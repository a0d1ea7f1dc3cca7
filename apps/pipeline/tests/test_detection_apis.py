"""The detection routes: rule validation (400 with field names, nothing stored), zone
scoping (a zone the caller may not see is 404 on details and absent from lists),
permissions, clearing an alarm, filters."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from apps.pipeline.models import Alarm, DetectionRule, ZoneWaterBalance
from apps.pipeline.tests.conftest import error_of
from apps.pipeline.tests.factories import user_make
from tests.personas import TENANT_B

pytestmark = pytest.mark.django_db

RULES = "/api/v1/pipeline/rules/"
ALARMS = "/api/v1/pipeline/alarms/"
BALANCES = "/api/v1/pipeline/water-balance/"


@pytest.fixture
def admin(api_client):
    return api_client(TENANT_B, "admin")


def _client_for(api_client, user: Any):
    return api_client(TENANT_B, user.username)


def _alarm(zone: Any, sensor: Any = None, **fields: Any) -> Alarm:
    values = {
        "kind": "threshold_high" if sensor else "flow_imbalance",
        "severity": "medium",
        "sensor": sensor,
        "zone": zone,
        "message": "test alarm",
        "value": 1.0,
    }
    values.update(fields)
    return Alarm.objects.create(**values)


def _rules() -> list[tuple]:
    return list(DetectionRule.objects.order_by("name").values_list("name", "kind", "threshold"))


# --- create and validate ----------------------------------------------------------------


def test_admin_creates_a_sensor_rule(admin, pipeline_network):
    payload = {
        "name": "North pressure high",
        "kind": "threshold_high",
        "sensor": str(pipeline_network.north_pressure.pk),
        "threshold": 8.5,
        "window_minutes": 30,
        "severity": "high",
        "opens_incident": True,
    }

    response = admin.post(RULES, payload, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    rule = DetectionRule.objects.get(pk=body["id"])
    assert (rule.sensor_id, rule.zone_id, rule.threshold, rule.window_minutes) == (
        pipeline_network.north_pressure.pk,
        None,
        8.5,
        30,
    )
    assert (body["sensor"], body["zone"], body["severity"], body["opens_incident"]) == (
        str(pipeline_network.north_pressure.pk),
        None,
        "high",
        True,
    )


def test_missing_data_needs_no_threshold_and_a_zone_kind_takes_a_zone(admin, pipeline_network):
    silent = admin.post(
        RULES,
        {"name": "Silent", "kind": "missing_data", "sensor": str(pipeline_network.south_flow.pk)},
        format="json",
    )
    leak = admin.post(
        RULES,
        {
            "name": "North leak",
            "kind": "flow_imbalance",
            "zone": str(pipeline_network.north.pk),
            "threshold": 15,
        },
        format="json",
    )

    assert (silent.status_code, leak.status_code) == (201, 201), (silent.content, leak.content)
    assert silent.json()["threshold"] is None
    assert leak.json()["zone"] == str(pipeline_network.north.pk)


BAD_CASES = (
    "both-targets",
    "no-target",
    "zone-kind-on-sensor",
    "sensor-kind-on-zone",
    "no-threshold",
    "null-threshold",
    "window-zero",
    "window-too-long",
    "window-as-string",
    "threshold-as-string",
    "unknown-kind",
    "water-loss-kind",
    "percent-over-100",
    "unknown-sensor",
    "sensor-not-uuid",
    "unknown-field",
    "empty-name",
    "threshold-beyond-float",
    "window-beyond-int",
)


def _bad_payloads(network: Any) -> list[tuple[str, dict, str]]:
    sensor, zone = str(network.north_pressure.pk), str(network.north.pk)
    base = {"name": "Bad", "kind": "threshold_high", "sensor": sensor, "threshold": 5.0}
    return [
        ("both-targets", {**base, "zone": zone}, "zone"),
        ("no-target", {"name": "Bad", "kind": "threshold_high", "threshold": 5.0}, "sensor"),
        ("zone-kind-on-sensor", {**base, "kind": "night_flow"}, "kind"),
        (
            "sensor-kind-on-zone",
            {"name": "Bad", "kind": "threshold_low", "zone": zone, "threshold": 1.0},
            "kind",
        ),
        ("no-threshold", {k: v for k, v in base.items() if k != "threshold"}, "threshold"),
        ("null-threshold", {**base, "threshold": None}, "threshold"),
        ("window-zero", {**base, "window_minutes": 0}, "window_minutes"),
        ("window-too-long", {**base, "window_minutes": 10081}, "window_minutes"),
        ("window-as-string", {**base, "window_minutes": "15"}, "window_minutes"),
        ("threshold-as-string", {**base, "threshold": "5"}, "threshold"),
        ("unknown-kind", {**base, "kind": "earthquake"}, "kind"),
        ("water-loss-kind", {**base, "kind": "water_loss", "sensor": None, "zone": zone}, "kind"),
        ("percent-over-100", {**base, "kind": "pressure_drop", "threshold": 150}, "threshold"),
        ("unknown-sensor", {**base, "sensor": "00000000-0000-4000-8000-000000000999"}, "sensor"),
        ("sensor-not-uuid", {**base, "sensor": "north"}, "sensor"),
        ("unknown-field", {**base, "colour": "red"}, "colour"),
        ("empty-name", {**base, "name": ""}, "name"),
        ("threshold-beyond-float", {**base, "threshold": 10**400}, "threshold"),
        ("window-beyond-int", {**base, "window_minutes": 10**40}, "window_minutes"),
    ]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_rule_input_is_a_400_naming_the_field_and_stores_nothing(admin, pipeline_network, case):
    [(payload, field)] = [(p, f) for c, p, f in _bad_payloads(pipeline_network) if c == case]
    before = _rules()

    response = admin.post(RULES, payload, format="json")

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert _rules() == before


def test_a_sensor_outside_the_callers_zones_is_unknown(api_client, pipeline_network):
    editor = user_make(
        zones=[pipeline_network.north],
        permissions=["pipeline.add_detectionrule", "pipeline.view_detectionrule"],
    )
    payload = {
        "name": "South",
        "kind": "threshold_high",
        "sensor": str(pipeline_network.south_flow.pk),
        "threshold": 5.0,
    }

    response = _client_for(api_client, editor).post(RULES, payload, format="json")

    assert response.status_code == 400
    assert error_of(response)["fields"] == {"sensor": ["Unknown sensor."]}
    assert not DetectionRule.objects.exists()


def test_staff_cannot_create_rules(api_client, pipeline_network):
    payload = {
        "name": "x",
        "kind": "threshold_high",
        "sensor": str(pipeline_network.north_flow.pk),
        "threshold": 5.0,
    }

    response = api_client(TENANT_B, "staff").post(RULES, payload, format="json")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert not DetectionRule.objects.exists()


# --- change and delete -----------------------------------------------------------------------


def test_patch_changes_a_rule_and_checks_it_whole(admin, pipeline_network):
    rule = DetectionRule.objects.create(
        name="r", kind="threshold_high", sensor=pipeline_network.north_flow, threshold=50.0
    )
    path = f"{RULES}{rule.pk}/"

    changed = admin.patch(path, {"threshold": 60.0, "is_active": False}, format="json")
    refused = admin.patch(path, {"kind": "flow_imbalance"}, format="json")

    assert changed.status_code == 200
    assert (changed.json()["threshold"], changed.json()["is_active"]) == (60.0, False)
    assert refused.status_code == 400
    assert "kind" in error_of(refused)["fields"]
    rule.refresh_from_db()
    assert (rule.kind, rule.threshold, rule.is_active) == ("threshold_high", 60.0, False)


def test_delete_removes_the_rule_and_keeps_its_alarms(admin, pipeline_network):
    rule = DetectionRule.objects.create(
        name="r", kind="threshold_high", sensor=pipeline_network.north_flow, threshold=50.0
    )
    alarm = _alarm(pipeline_network.north, pipeline_network.north_flow, rule=rule)

    response = admin.delete(f"{RULES}{rule.pk}/")

    assert response.status_code == 204
    assert not DetectionRule.objects.filter(pk=rule.pk).exists()
    alarm.refresh_from_db()
    assert (alarm.rule_id, alarm.status) == (None, "active")


# --- zone scope ------------------------------------------------------------------------------


@pytest.fixture
def north_watcher(pipeline_network):
    return user_make(roles=["viewer"], zones=[pipeline_network.north])


def test_rules_of_zones_the_caller_cannot_see_are_hidden(
    api_client, pipeline_network, north_watcher
):
    n = pipeline_network
    in_sub_zone = DetectionRule.objects.create(
        name="sub", kind="threshold_low", sensor=n.north1_pressure, threshold=1.0
    )
    zone_rule = DetectionRule.objects.create(
        name="zone", kind="night_flow", zone=n.north, threshold=3.0
    )
    hidden = DetectionRule.objects.create(
        name="south", kind="threshold_high", sensor=n.south_flow, threshold=1.0
    )
    client = _client_for(api_client, north_watcher)

    listed = client.get(RULES)
    detail = client.get(f"{RULES}{hidden.pk}/")

    assert sorted(row["id"] for row in listed.json()["results"]) == sorted(
        [str(in_sub_zone.pk), str(zone_rule.pk)]
    )
    assert detail.status_code == 404
    assert error_of(detail)["code"] == "not_found"


def test_alarms_of_zones_the_caller_cannot_see_are_not_found(
    api_client, pipeline_network, north_watcher
):
    n = pipeline_network
    visible = _alarm(n.north_1, n.north1_pressure)
    hidden = _alarm(n.south, n.south_flow)
    client = _client_for(api_client, north_watcher)

    listed = client.get(ALARMS)
    own = client.get(f"{ALARMS}{visible.pk}/")
    foreign = client.get(f"{ALARMS}{hidden.pk}/")

    assert [row["id"] for row in listed.json()["results"]] == [str(visible.pk)]
    assert own.status_code == 200
    assert own.json()["zone_code"] == "NORTH-1"
    assert foreign.status_code == 404


def test_balances_of_zones_the_caller_cannot_see_are_hidden(
    api_client, pipeline_network, north_watcher
):
    n = pipeline_network
    ZoneWaterBalance.objects.create(zone=n.north, day=date(2031, 1, 15), inflow_m3=1.0)
    ZoneWaterBalance.objects.create(zone=n.south, day=date(2031, 1, 15), inflow_m3=2.0)

    listed = _client_for(api_client, north_watcher).get(BALANCES)

    assert [row["zone_code"] for row in listed.json()["results"]] == ["NORTH"]


def test_a_user_without_roles_cannot_list_alarms(api_client, pipeline_network):
    response = api_client(TENANT_B, "outsider").get(ALARMS)

    assert response.status_code == 403


# --- clearing ----------------------------------------------------------------------------------


def test_admin_clears_an_active_alarm_once(admin, pipeline_network):
    alarm = _alarm(pipeline_network.north, pipeline_network.north_flow)
    path = f"{ALARMS}{alarm.pk}/clear/"

    first = admin.post(path, format="json")
    again = admin.post(path, format="json")

    assert first.status_code == 200
    assert first.json()["status"] == "cleared"
    assert first.json()["cleared_at"] is not None
    assert again.status_code == 409
    assert error_of(again)["code"] == "pipeline.alarm_not_active"


def test_clearing_needs_the_incident_handling_permission(api_client, pipeline_network):
    viewer = user_make(roles=["viewer"], zones=[pipeline_network.north])
    alarm = _alarm(pipeline_network.north, pipeline_network.north_flow)

    response = _client_for(api_client, viewer).post(f"{ALARMS}{alarm.pk}/clear/", format="json")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    alarm.refresh_from_db()
    assert (alarm.status, alarm.cleared_at) == ("active", None)


def test_a_manager_of_the_zone_clears_it(api_client, pipeline_network):
    manager = user_make(roles=["manager"], zones=[pipeline_network.north])
    alarm = _alarm(pipeline_network.north, pipeline_network.north_flow)

    response = _client_for(api_client, manager).post(f"{ALARMS}{alarm.pk}/clear/", format="json")

    assert response.status_code == 200, response.content
    alarm.refresh_from_db()
    assert alarm.status == "cleared"


# --- filters -----------------------------------------------------------------------------------


def test_alarm_filters(admin, pipeline_network):
    n = pipeline_network
    active = _alarm(n.north, n.north_flow)
    _alarm(n.south, n.south_flow, status="cleared")
    zone_alarm = _alarm(n.north)

    by_status = admin.get(ALARMS, {"status": "active"})
    by_kind = admin.get(ALARMS, {"kind": "flow_imbalance"})
    by_sensor = admin.get(ALARMS, {"sensor": str(n.north_flow.pk)})
    by_zone = admin.get(ALARMS, {"zone": str(n.south.pk)})

    assert sorted(row["id"] for row in by_status.json()["results"]) == sorted(
        [str(active.pk), str(zone_alarm.pk)]
    )
    assert [row["id"] for row in by_kind.json()["results"]] == [str(zone_alarm.pk)]
    assert [row["id"] for row in by_sensor.json()["results"]] == [str(active.pk)]
    assert [row["status"] for row in by_zone.json()["results"]] == ["cleared"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (ALARMS, {"status": "burning"}),
        (ALARMS, {"status": ""}),
        (ALARMS, {"zone": "north"}),
        (RULES, {"kind": "water_loss"}),
        (RULES, {"sensor": ""}),
        (BALANCES, {"day_from": "yesterday"}),
        (BALANCES, {"day_to": ""}),
        (BALANCES, {"day_from": "1500-01-01"}),
    ],
)
def test_bad_filters_are_a_400(admin, pipeline_network, path, params):
    response = admin.get(path, params)

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "validation_error"


def test_water_balance_filters_by_zone_and_days(admin, pipeline_network):
    n = pipeline_network
    for day in (14, 15, 16):
        ZoneWaterBalance.objects.create(zone=n.north, day=date(2031, 1, day), inflow_m3=day)
    ZoneWaterBalance.objects.create(zone=n.south, day=date(2031, 1, 15), inflow_m3=99.0)

    response = admin.get(
        BALANCES,
        {
            "zone": str(n.north.pk),
            "day_from": "2031-01-15",
            "day_to": "2031-01-16",
            "ordering": "day",
        },
    )

    assert response.status_code == 200, response.content
    assert [(row["day"], row["inflow_m3"]) for row in response.json()["results"]] == [
        ("2031-01-15", 15.0),
        ("2031-01-16", 16.0),
    ]
