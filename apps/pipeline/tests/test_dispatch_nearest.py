# ruff: noqa: F811 - fixtures imported from helpers_incidents are test arguments
"""Dispatch: the nearest available team with the skill, by distance computed in SQL
(earthdistance, served by the GiST index); decline and expiry move on to the next
nearest; no team left is recorded."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from apps.pipeline.tests.conftest import error_of, pipeline_actor
from apps.pipeline.tests.helpers_incidents import (
    ORIGIN,
    events_of,
    incident_make,
    minutes,
    team_at,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams(pipeline_network):
    """Teams 5, 10, 20 and 40 km north of ORIGIN; the network's own teams sit ~40 km
    further (Amsterdam) and are the "pipes"/"valves" crew and an unavailable standby."""
    return {
        "near": team_at("NEAR", 5),
        "mid": team_at("MID", 10, skills=["pipes", "pumps"]),
        "far": team_at("FAR", 20),
        "farthest": team_at("FARTHEST", 40, skills=["pumps"]),
    }


def test_team_nearest_orders_by_distance_and_filters(teams):
    from apps.pipeline.selectors.incidents import team_nearest

    nearest = team_nearest(latitude=ORIGIN[0], longitude=ORIGIN[1], limit=4)
    assert [team.code for team in nearest] == ["NEAR", "MID", "FAR", "FARTHEST"]
    assert nearest[0].distance_km == pytest.approx(5, rel=0.01)
    assert nearest[3].distance_km == pytest.approx(40, rel=0.01)

    pumps = team_nearest(latitude=ORIGIN[0], longitude=ORIGIN[1], skill="pumps", limit=5)
    assert [team.code for team in pumps] == ["MID", "FARTHEST"]  # STANDBY is unavailable

    skipped = team_nearest(
        latitude=ORIGIN[0], longitude=ORIGIN[1], limit=1, exclude_team_ids=[teams["near"].pk]
    )
    assert [team.code for team in skipped] == ["MID"]


def test_last_known_position_beats_the_base(teams):
    from apps.pipeline.selectors.incidents import team_nearest

    far = teams["far"]
    far.last_latitude, far.last_longitude = ORIGIN[0] + 1 / 111.2, ORIGIN[1]  # 1 km away
    far.save()

    assert team_nearest(latitude=ORIGIN[0], longitude=ORIGIN[1], limit=1)[0].code == "FAR"


def test_deleted_and_unavailable_teams_are_never_offered(teams):
    from apps.pipeline.selectors.incidents import team_nearest

    teams["near"].deleted_at = timezone.now()
    teams["near"].save()
    teams["mid"].is_available = False
    teams["mid"].save()

    assert team_nearest(latitude=ORIGIN[0], longitude=ORIGIN[1], limit=1)[0].code == "FAR"


def test_the_gist_index_serves_the_nearest_query(teams):
    """With sequential scans priced out (the table is tiny), the plan that remains is the
    KNN walk of pipeline_team_position_gist: the ORDER BY matches its expression."""
    from apps.pipeline.selectors.incidents import team_nearest_sql

    sql = team_nearest_sql(skill=True, exclude=False)
    params = {"lat": 52.0, "lon": 5.0, "skill": "pipes", "exclude": [], "limit": 1}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")

    assert "pipeline_team_position_gist" in plan
    assert "Order By" in plan  # the index returns rows nearest first: no sort step


def test_opening_offers_the_nearest_team_with_the_skill(teams, pipeline_network):
    from apps.pipeline.models import DispatchOffer
    from apps.pipeline.services import incidents as services

    incident = incident_make(pipeline_network.north, required_skill="pumps")
    services.incident_dispatch(actor=None, incident=incident)

    offer = DispatchOffer.objects.get(incident=incident)
    assert offer.team == teams["mid"]
    assert offer.status == "offered"
    assert offer.distance_km == pytest.approx(10, rel=0.01)
    assert offer.respond_by - offer.offered_at == minutes(10)
    assert events_of(incident)[-1] == "dispatch_offered"


@pytest.mark.parametrize("skill", ["pipes", " Pipes "])
def test_report_auto_dispatches(api_client, teams, pipeline_network, skill):
    from apps.pipeline.models import DispatchOffer

    response = api_client("beta", "admin").post(
        "/api/v1/pipeline/incidents/",
        {
            "title": "Leak",
            "severity": "high",
            "zone": str(pipeline_network.north.pk),
            "latitude": ORIGIN[0],
            "longitude": ORIGIN[1],
            "required_skill": skill,  # matched as team skills are stored: trimmed, lower
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["required_skill"] == "pipes"
    assert DispatchOffer.objects.get(incident_id=response.json()["id"]).team == teams["near"]


def test_decline_goes_to_the_next_nearest_then_nobody(teams, pipeline_network, api_client):
    from apps.pipeline.models import DispatchOffer

    incident = incident_make(pipeline_network.north, dispatch=True, required_skill="pumps")
    client = api_client("beta", "admin")

    first = DispatchOffer.objects.get(incident=incident, status="offered")
    assert first.team == teams["mid"]
    response = client.post(
        f"/api/v1/pipeline/dispatch-offers/{first.pk}/decline/", {"reason": "busy"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"
    second = DispatchOffer.objects.get(incident=incident, status="offered")
    assert second.team == teams["farthest"]

    client.post(f"/api/v1/pipeline/dispatch-offers/{second.pk}/decline/", format="json")

    assert not DispatchOffer.objects.filter(incident=incident, status="offered").exists()
    assert events_of(incident)[-1] == "dispatch_unavailable"
    assert events_of(incident).count("dispatch_declined") == 2


def test_expired_offers_move_on_set_based(teams, pipeline_network, django_assert_max_num_queries):
    from apps.pipeline.models import DispatchOffer
    from apps.pipeline.services import incidents as services

    incidents = [incident_make(pipeline_network.north, dispatch=True) for _ in range(3)]
    assert set(
        DispatchOffer.objects.filter(status="offered").values_list("team__code", flat=True)
    ) == {"NEAR"}

    later = timezone.now() + minutes(11)
    with django_assert_max_num_queries(12):
        assert services.dispatch_offers_expire(now=later) == 3

    for incident in incidents:
        assert DispatchOffer.objects.get(incident=incident, status="offered").team == teams["mid"]
        assert "dispatch_expired" in events_of(incident)
    # Not due yet: nothing happens.
    assert services.dispatch_offers_expire(now=later + minutes(1)) == 0


def test_accept_assigns_the_team_and_stops_escalation(teams, pipeline_network, client_for):
    from apps.accounts.models import User
    from apps.pipeline.models import DispatchOffer, Incident, TeamMember

    member = User.objects.create_user(username="crew-member", password="x-secret-pass-9")
    TeamMember.objects.create(team=teams["near"], user=member)
    incident = incident_make(pipeline_network.north, dispatch=True)
    Incident.objects.filter(pk=incident.pk).update(next_escalation_at=timezone.now())
    offer = DispatchOffer.objects.get(incident=incident)

    # A member of the offered team answers without approve_dispatch_response.
    response = client_for(member).post(f"/api/v1/pipeline/dispatch-offers/{offer.pk}/accept/")

    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.status == "assigned"
    assert incident.assigned_team == teams["near"]
    assert incident.next_escalation_at is None
    assert events_of(incident)[-2:] == ["dispatch_accepted", "status_changed"]
    # Answering again: the offer is no longer open.
    again = client_for(member).post(f"/api/v1/pipeline/dispatch-offers/{offer.pk}/accept/")
    assert again.status_code == 409
    assert error_of(again)["code"] == "pipeline.offer_not_open"


def test_someone_else_cannot_answer(teams, pipeline_network, zone_user, client_for):
    from apps.pipeline.models import DispatchOffer

    incident = incident_make(pipeline_network.north, dispatch=True)
    offer = DispatchOffer.objects.get(incident=incident)
    viewer = zone_user(zones=[pipeline_network.north])

    response = client_for(viewer).post(f"/api/v1/pipeline/dispatch-offers/{offer.pk}/accept/")

    assert response.status_code == 403
    assert DispatchOffer.objects.get(pk=offer.pk).status == "offered"


def test_an_expired_offer_cannot_be_accepted(teams, pipeline_network):
    from apps.pipeline.errors import OfferNotOpenError
    from apps.pipeline.models import DispatchOffer
    from apps.pipeline.services import incidents as services

    incident = incident_make(pipeline_network.north, dispatch=True)
    offer = DispatchOffer.objects.get(incident=incident)
    DispatchOffer.objects.filter(pk=offer.pk).update(respond_by=timezone.now() - minutes(1))

    with pytest.raises(OfferNotOpenError):
        services.offer_accept(actor=pipeline_actor("admin"), offer=offer)


def test_redispatch_withdraws_the_live_offer(teams, pipeline_network, api_client):
    from apps.pipeline.models import DispatchOffer

    incident = incident_make(pipeline_network.north, dispatch=True)

    response = api_client("beta", "admin").post(
        f"/api/v1/pipeline/incidents/{incident.pk}/dispatch/",
        {"respond_within_minutes": 3},
        format="json",
    )

    assert response.status_code == 200, response.content
    statuses = [(row["team"]["code"], row["status"]) for row in response.json()]
    assert statuses == [("NEAR", "cancelled"), ("MID", "offered")]
    live = DispatchOffer.objects.get(incident=incident, status="offered")
    assert live.respond_by - live.offered_at == minutes(3)


def test_no_team_with_the_skill_is_recorded(pipeline_network):
    incident = incident_make(pipeline_network.north, dispatch=True, required_skill="diving")

    assert events_of(incident)[-1] == "dispatch_unavailable"


def test_offer_notification_reaches_the_team_members(teams, pipeline_network):
    from apps.accounts.models import User
    from apps.notifications.models import Delivery
    from apps.pipeline.models import DispatchOffer, TeamMember
    from apps.pipeline.services import incidents as services

    member = User.objects.create_user(
        username="crew-notified", email="crew@example.test", password="x-secret-pass-9"
    )
    TeamMember.objects.create(team=teams["near"], user=member)
    incident = incident_make(pipeline_network.north, dispatch=True)
    offer = DispatchOffer.objects.get(incident=incident)

    assert services.dispatch_offers_notify(offer_ids=[str(offer.pk)]) == 1

    channels = set(
        Delivery.objects.filter(event="pipeline.dispatch_offered", user=member).values_list(
            "channel", flat=True
        )
    )
    assert channels == {"in_app", "email"}


@pytest.mark.parametrize(
    "params",
    [
        {"latitude": "91", "longitude": "5"},
        {"latitude": "52", "longitude": "-181"},
        {"latitude": "nan", "longitude": "5"},
        {"latitude": "abc", "longitude": "5"},
        {"longitude": "5"},
        {"latitude": "52", "longitude": "5", "skill": ""},
        {"latitude": "52", "longitude": "5", "limit": "0"},
        {"latitude": "52", "longitude": "5", "colour": "red"},
    ],
    ids=["lat-range", "lon-range", "nan", "text", "missing", "empty-skill", "limit", "unknown"],
)
def test_nearest_api_refuses_bad_parameters(api_client, params, in_tenant_b):
    response = api_client("beta", "admin").get("/api/v1/pipeline/teams/nearest/", params)

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "validation_error"


def test_nearest_api_lists_teams(api_client, teams):
    response = api_client("beta", "admin").get(
        "/api/v1/pipeline/teams/nearest/",
        {"latitude": ORIGIN[0], "longitude": ORIGIN[1], "skill": "pumps"},
    )

    assert response.status_code == 200, response.content
    assert [row["code"] for row in response.json()] == ["MID", "FARTHEST"]
    assert response.json()[0]["distance_km"] == pytest.approx(10, rel=0.01)


def test_starting_work_withdraws_the_live_offer(teams, pipeline_network):
    from apps.pipeline.models import DispatchOffer
    from apps.pipeline.services import incidents as services

    admin = pipeline_actor("admin")
    incident = incident_make(pipeline_network.north, dispatch=True)
    services.incident_acknowledge(actor=admin, incident=incident)
    services.incident_start(actor=admin, incident=incident)

    assert DispatchOffer.objects.get(incident=incident).status == "cancelled"
    assert services.dispatch_offers_expire(now=timezone.now() + minutes(60)) == 0


def test_an_alarm_incident_goes_to_the_nearest_team_with_the_rules_skill(teams, pipeline_network):
    """The raising rule names the skill; the nearer teams without it are passed over."""
    from apps.pipeline.models import Alarm, DetectionRule, DispatchOffer
    from apps.pipeline.services.detection import detection_rule_create
    from apps.pipeline.services.incidents import incident_open_from_alarm

    admin = pipeline_actor("admin")
    rule = detection_rule_create(
        actor=admin,
        data={
            "name": "north leak",
            "kind": "pressure_drop",
            "sensor": pipeline_network.north_pressure.pk,
            "threshold": 15,
            "window_minutes": 5,
            "severity": "high",
            "required_skill": " Pumps ",
        },
    )
    assert DetectionRule.objects.get(pk=rule.pk).required_skill == "pumps"
    alarm = Alarm.objects.create(
        kind="pressure_drop",
        severity="high",
        sensor=pipeline_network.north_pressure,
        zone=pipeline_network.north_pressure.zone,
        rule=rule,
        message="Pressure fell 30 %",
    )
    # Place the fault at ORIGIN, where the test teams are measured from.
    asset = pipeline_network.north_pressure.asset
    asset.latitude, asset.longitude = ORIGIN
    asset.save()

    incident = incident_open_from_alarm(alarm=alarm)

    assert incident.required_skill == "pumps"
    assert DispatchOffer.objects.get(incident=incident).team == teams["mid"]
