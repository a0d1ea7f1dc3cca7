# ruff: noqa: F811 - fixtures imported from helpers_incidents are test arguments
"""Incidents: opening (by hand, from alarms), the state machine, the timeline, zone scope
and the realtime payload."""

from __future__ import annotations

import pytest

from apps.pipeline.tests.conftest import error_of, pipeline_actor
from apps.pipeline.tests.helpers_incidents import (  # noqa: F401 - fixtures
    admin_b,
    events_of,
    incident_make,
    published,
    team_at,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/pipeline/incidents/"


def _snapshot(incident):
    from apps.pipeline.models import Incident, IncidentEvent

    row = Incident.objects.filter(pk=incident.pk).values().get()
    row.pop("updated_at")
    return row, IncidentEvent.objects.filter(incident=incident).count()


def test_report_opens_numbered_incident_with_opened_event(api_client, pipeline_network, admin_b):
    from apps.pipeline.models import Incident

    response = api_client("beta", "admin").post(
        BASE,
        {
            "title": "Water in the street",
            "severity": "medium",
            "zone": str(pipeline_network.north.pk),
            "latitude": 52.1,
            "longitude": 5.1,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open"
    assert body["source"] == "manual"
    assert body["number"].startswith("INC-")
    assert len(body["number"]) == 10
    incident = Incident.objects.get(pk=body["id"])
    assert events_of(incident)[0] == "opened"


def test_numbers_come_from_the_sequence(pipeline_network):
    first = incident_make(pipeline_network.north)
    second = incident_make(pipeline_network.north)

    assert int(second.number[4:]) == int(first.number[4:]) + 1


def test_report_at_an_asset_takes_its_place(api_client, pipeline_network):
    asset = pipeline_network.south_pump
    response = api_client("beta", "admin").post(
        BASE,
        {
            "title": "Pump noise",
            "severity": "low",
            "zone": str(pipeline_network.south.pk),
            "asset": str(asset.pk),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["latitude"], body["longitude"]) == (asset.latitude, asset.longitude)
    assert body["asset"]["code"] == asset.code


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x", "severity": "high"}, "latitude"),
        ({"title": "x", "severity": "high", "latitude": 91, "longitude": 5}, "latitude"),
        ({"title": "x", "severity": "extreme", "latitude": 1, "longitude": 5}, "severity"),
        ({"title": "", "severity": "high", "latitude": 1, "longitude": 5}, "title"),
        ({"title": "x", "severity": "high", "latitude": 1, "longitude": 5, "colour": 1}, "colour"),
        ({"title": "x", "severity": "high", "latitude": "1", "longitude": 5}, "latitude"),
    ],
    ids=["no-place", "latitude-range", "severity", "title", "unknown-field", "string-number"],
)
def test_bad_reports_are_400_and_store_nothing(api_client, pipeline_network, payload, field):
    from apps.pipeline.models import Incident

    response = api_client("beta", "admin").post(
        BASE, {"zone": str(pipeline_network.north.pk), **payload}, format="json"
    )

    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"]
    assert not Incident.objects.exists()


def test_report_in_an_invisible_zone_is_refused(client_for, zone_user, pipeline_network):
    from apps.pipeline.models import Incident

    user = zone_user(zones=[pipeline_network.south], permissions=["pipeline.report_incident"])
    response = client_for(user).post(
        BASE,
        {
            "title": "x",
            "severity": "high",
            "zone": str(pipeline_network.north.pk),
            "latitude": 52,
            "longitude": 5,
        },
        format="json",
    )

    assert response.status_code == 400
    assert "zone" in error_of(response)["fields"]
    assert not Incident.objects.exists()


def test_full_lifecycle_and_timeline(api_client, pipeline_network, published):
    from apps.pipeline.models import Incident

    client = api_client("beta", "admin")
    incident = incident_make(pipeline_network.north)
    url = f"{BASE}{incident.pk}/"

    assert client.post(url + "acknowledge/", format="json").json()["status"] == "acknowledged"
    assert client.post(url + "start/", format="json").json()["status"] == "in_progress"
    resolved = client.post(url + "resolve/", {"resolution": "Clamp fitted"}, format="json")
    assert resolved.json()["status"] == "resolved"
    note = client.post(url + "notes/", {"message": "Crew on site"}, format="json")
    assert note.status_code == 201, note.content
    assert client.post(url + "notes/", {"message": ""}, format="json").status_code == 400
    assert client.post(url + "close/", format="json").json()["status"] == "closed"

    incident = Incident.objects.get(pk=incident.pk)
    assert incident.resolution == "Clamp fitted"
    assert incident.acknowledged_at is not None
    assert incident.resolved_at is not None
    assert incident.closed_at is not None
    timeline = client.get(url + "timeline/").json()
    kinds = [event["kind"] for event in timeline]
    assert kinds[0] == "opened"
    assert "note" in kinds
    moves = [event["data"]["status"] for event in timeline if event["kind"] == "status_changed"]
    assert moves == ["acknowledged", "in_progress", "resolved", "closed"]
    assert all(event["actor"] for event in timeline if event["kind"] == "status_changed")


@pytest.mark.parametrize(
    ("setup", "action", "body"),
    [
        ([], "close/", {}),
        (["acknowledge/"], "close/", {}),
        (["acknowledge/"], "acknowledge/", {}),
        ([], "start/", {}),
        ([], "resolve/", {"resolution": "done"}),
        (["acknowledge/", "resolve/"], "start/", {}),
    ],
    ids=[
        "close-open",
        "close-acknowledged",
        "ack-twice",
        "start-open",
        "resolve-open",
        "start-resolved",
    ],
)
def test_forbidden_transitions_are_409_and_change_nothing(
    api_client, pipeline_network, setup, action, body
):
    client = api_client("beta", "admin")
    incident = incident_make(pipeline_network.north)
    url = f"{BASE}{incident.pk}/"
    for step in setup:
        answer = client.post(
            url + step, {"resolution": "fixed"} if step == "resolve/" else {}, format="json"
        )
        assert answer.status_code == 200, answer.content
    before = _snapshot(incident)

    response = client.post(url + action, body, format="json")

    assert response.status_code == 409, response.content
    assert error_of(response)["code"] == "pipeline.invalid_transition"
    assert _snapshot(incident) == before


@pytest.mark.parametrize("body", [{}, {"resolution": ""}, {"resolution": "   "}])
def test_resolution_is_required(api_client, pipeline_network, body):
    client = api_client("beta", "admin")
    incident = incident_make(pipeline_network.north)
    client.post(f"{BASE}{incident.pk}/acknowledge/", format="json")
    before = _snapshot(incident)

    response = client.post(f"{BASE}{incident.pk}/resolve/", body, format="json")

    assert response.status_code == 400, response.content
    assert "resolution" in error_of(response)["fields"]
    assert _snapshot(incident) == before


def test_staff_cannot_acknowledge(api_client, pipeline_network):
    incident = incident_make(pipeline_network.north)

    response = api_client("beta", "staff").post(f"{BASE}{incident.pk}/acknowledge/")

    # staff (view_* only) does not see zones without a grant: the incident is not there.
    assert response.status_code in (403, 404)


def test_zone_scope_hides_other_zones(client_for, zone_user, pipeline_network):
    north = incident_make(pipeline_network.north_1)  # under NORTH: covered by the grant
    south = incident_make(pipeline_network.south)
    user = zone_user(zones=[pipeline_network.north], roles=["manager"])
    client = client_for(user)

    listed = {row["id"] for row in client.get(BASE).json()["results"]}
    assert listed == {str(north.pk)}
    assert client.get(f"{BASE}{south.pk}/").status_code == 404
    assert client.post(f"{BASE}{south.pk}/acknowledge/").status_code == 404
    assert client.post(f"{BASE}{north.pk}/acknowledge/").status_code == 200


def test_list_filters(api_client, pipeline_network):
    from apps.pipeline.services import incidents as services

    admin = pipeline_actor("admin")
    low = incident_make(pipeline_network.north, severity="low")
    high = incident_make(pipeline_network.south, severity="high")
    services.incident_acknowledge(actor=admin, incident=high)
    services.incident_resolve(actor=admin, incident=high, resolution="ok")
    client = api_client("beta", "admin")

    def ids(**params):
        response = client.get(BASE, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(severity="low") == {str(low.pk)}
    assert ids(status="resolved") == {str(high.pk)}
    assert ids(open_only="true") == {str(low.pk)}
    assert ids(zone=str(pipeline_network.south.pk)) == {str(high.pk)}
    assert ids(zone=str(pipeline_network.root.pk)) == {str(low.pk), str(high.pk)}
    assert client.get(BASE, {"status": "nope"}).status_code == 400
    assert client.get(BASE, {"open_only": "yes"}).status_code == 400


def test_every_change_publishes_the_summary_to_the_zone_audience(
    pipeline_network, published, zone_user
):
    from apps.pipeline.services import incidents as services

    watcher = zone_user(zones=[pipeline_network.north])
    outsider = zone_user(zones=[pipeline_network.south])
    incident = incident_make(pipeline_network.north, asset=pipeline_network.north_main)
    services.incident_acknowledge(actor=pipeline_actor("admin"), incident=incident)

    assert [event for event, _, _ in published] == ["pipeline.incident.updated"] * 2
    event_type, payload, user_ids = published[-1]
    assert set(payload) == {
        "id",
        "number",
        "title",
        "severity",
        "status",
        "source",
        "zone",
        "asset",
        "assigned_team",
        "escalation_level",
        "opened_at",
        "updated_at",
    }
    assert payload["id"] == str(incident.pk)
    assert payload["status"] == "acknowledged"
    assert payload["zone"] == {
        "id": str(pipeline_network.north.pk),
        "code": "NORTH",
        "name": pipeline_network.north.name,
    }
    assert payload["asset"]["code"] == pipeline_network.north_main.code
    assert payload["assigned_team"] is None
    assert str(watcher.pk) in user_ids
    assert str(outsider.pk) not in user_ids


def test_concurrent_transitions_cannot_both_apply(pipeline_network):
    """The second acknowledge re-reads the locked row and finds it acknowledged."""
    from apps.pipeline.errors import InvalidTransitionError
    from apps.pipeline.services import incidents as services

    admin = pipeline_actor("admin")
    incident = incident_make(pipeline_network.north)
    stale = type(incident).objects.get(pk=incident.pk)
    services.incident_acknowledge(actor=admin, incident=incident)

    with pytest.raises(InvalidTransitionError):
        services.incident_acknowledge(actor=admin, incident=stale)
    assert events_of(incident).count("status_changed") == 1


# --- from alarms ---------------------------------------------------------------------------


def _alarm(network, *, kind="pressure_drop", sensor=None, zone=None, severity="critical"):
    from apps.pipeline.models import Alarm

    sensor = sensor if sensor is not None else (network.north_pressure if zone is None else None)
    return Alarm.objects.create(
        kind=kind,
        severity=severity,
        sensor=sensor,
        zone=zone or sensor.zone,
        message=f"{kind} detected",
    )


def test_alarm_opens_incident_at_the_sensor_asset(pipeline_network):
    from apps.pipeline.models import Alarm
    from apps.pipeline.services import incidents as services

    alarm = _alarm(pipeline_network)
    incident = services.incident_open_from_alarm(alarm=alarm)

    assert incident.source == "alarm"
    assert incident.severity == "critical"
    assert incident.asset == pipeline_network.north_main
    assert incident.zone == pipeline_network.north
    assert "North DMA" in incident.title
    assert Alarm.objects.get(pk=alarm.pk).incident_id == incident.pk
    assert events_of(incident)[:2] == ["opened", "alarm_linked"]
    # Idempotent for the same alarm.
    assert services.incident_open_from_alarm(alarm=alarm).pk == incident.pk


def test_leak_alarms_of_one_zone_merge_into_one_incident(pipeline_network):
    from apps.pipeline.models import Incident
    from apps.pipeline.services import incidents as services

    first = services.incident_open_from_alarm(alarm=_alarm(pipeline_network))
    zone_alarm = _alarm(pipeline_network, kind="flow_imbalance", zone=pipeline_network.north)
    second = services.incident_open_from_alarm(alarm=zone_alarm)

    assert second.pk == first.pk
    assert Incident.objects.count() == 1
    assert events_of(first).count("alarm_linked") == 2


def test_non_leak_alarm_opens_its_own_incident(pipeline_network):
    from apps.pipeline.services import incidents as services

    first = services.incident_open_from_alarm(alarm=_alarm(pipeline_network))
    other = services.incident_open_from_alarm(
        alarm=_alarm(pipeline_network, kind="threshold_high", sensor=pipeline_network.north_flow)
    )

    assert other.pk != first.pk


def test_zone_alarm_is_placed_at_the_zone_assets(pipeline_network):
    from apps.pipeline.services import incidents as services

    incident = services.incident_open_from_alarm(
        alarm=_alarm(pipeline_network, kind="water_loss", zone=pipeline_network.south)
    )

    assert incident.asset == pipeline_network.south_pump
    assert (incident.latitude, incident.longitude) == (52.30, 4.85)
