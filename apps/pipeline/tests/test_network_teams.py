"""Field teams through the API: skills normalised, members, positions reported by members
or managers, soft delete refused while work is assigned."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.pipeline.models import FieldTeam, Incident, TeamMember
from apps.pipeline.tests.conftest import error_of
from apps.pipeline.tests.factories import team_make, user_make
from tests.personas import TENANT_B

pytestmark = pytest.mark.django_db

TEAMS = "/api/v1/pipeline/teams/"


@pytest.fixture
def admin(api_client):
    return api_client(TENANT_B, "admin")


def _codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def _team(**changes):
    payload = {
        "code": "CREW-2",
        "name": "Second crew",
        "skills": [" Welding", "pipes", "WELDING ", "valve  repair"],
        "base_latitude": 52.33,
        "base_longitude": 4.87,
    }
    payload.update(changes)
    return payload


def test_creates_a_team_with_normalised_skills(admin, in_tenant_b):
    response = admin.post(TEAMS, _team(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["skills"] == ["welding", "pipes", "valve repair"]
    assert body["is_available"] is True
    assert body["members"] == []
    assert FieldTeam.objects.get(code="CREW-2").skills == ["welding", "pipes", "valve repair"]


def test_filters_by_skill_and_availability(admin, pipeline_network):
    assert _codes(admin.get(TEAMS, {"skill": "Valves"})) == {"CREW"}
    assert _codes(admin.get(TEAMS, {"available": "false"})) == {"STANDBY"}
    assert _codes(admin.get(TEAMS, {"skill": "!!"})) == set()


def test_every_pipeline_user_sees_every_team(pipeline_network, zone_user, client_for):
    # Teams are not zone-scoped: a user granted only SOUTH still sees the crews.
    client = client_for(zone_user(zones=[pipeline_network.south]))

    assert _codes(client.get(TEAMS)) == {"CREW", "STANDBY"}


def test_updates_skills_and_availability(admin, pipeline_network):
    response = admin.patch(
        f"{TEAMS}{pipeline_network.standby.pk}/",
        {"skills": ["Pumps", "electrics"], "is_available": True},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["skills"] == ["pumps", "electrics"]
    assert response.json()["is_available"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"base_latitude": 91}, "base_latitude"),
        ({"base_longitude": 181}, "base_longitude"),
        ({"skills": ["   "]}, "skills"),
        ({"skills": ["a" * 40]}, "skills"),
        ({"skills": "pipes"}, "skills"),
        ({"skills": ["pipes;drop"]}, "skills"),
        ({"code": ""}, "code"),
    ],
    ids=["lat", "lon", "blank-skill", "long-skill", "not-a-list", "odd-chars", "empty-code"],
)
def test_bad_team_input_is_a_400(admin, in_tenant_b, changes, field):
    before = FieldTeam.all_objects.count()

    response = admin.post(TEAMS, _team(**changes), format="json")

    assert response.status_code == 400, response.content
    # A bad list item is named with its index ("skills.0").
    assert any(name.split(".")[0] == field for name in error_of(response)["fields"])
    assert FieldTeam.all_objects.count() == before


def test_refuses_a_taken_code(admin, pipeline_network):
    response = admin.post(TEAMS, _team(code="CREW"), format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.code_taken"


def test_adds_lists_and_removes_members(admin, pipeline_network):
    team = pipeline_network.standby
    worker = user_make("worker-1")
    members = f"{TEAMS}{team.pk}/members/"

    added = admin.post(members, {"user": str(worker.pk), "role": "lead"}, format="json")
    again = admin.post(members, {"user": str(worker.pk), "role": "member"}, format="json")
    listed = admin.get(members)
    removed = admin.delete(f"{members}{worker.pk}/")
    removed_again = admin.delete(f"{members}{worker.pk}/")

    assert added.status_code == 200, added.content
    assert added.json()["role"] == "lead"
    assert again.json()["role"] == "member"
    assert [row["username"] for row in listed.json()] == ["worker-1"]
    assert removed.status_code == 204
    assert removed_again.status_code == 404
    assert not TeamMember.objects.filter(team=team).exists()


def test_adding_an_unknown_user_is_a_400(admin, pipeline_network):
    response = admin.post(
        f"{TEAMS}{pipeline_network.standby.pk}/members/",
        {"user": "00000000-0000-4000-8000-000000000999"},
        format="json",
    )

    assert response.status_code == 400
    assert error_of(response)["fields"] == {"user": ["Unknown user."]}


def test_a_member_reports_the_team_position(pipeline_network, client_for):
    from apps.accounts.models import User

    member = User.objects.get(username="staff")
    before = timezone.now()

    response = client_for(member).post(
        f"{TEAMS}{pipeline_network.crew.pk}/position/",
        {"latitude": 52.41, "longitude": 4.93},
        format="json",
    )

    assert response.status_code == 200, response.content
    team = FieldTeam.objects.get(pk=pipeline_network.crew.pk)
    assert (team.last_latitude, team.last_longitude) == (52.41, 4.93)
    assert team.last_seen_at >= before


def test_a_member_without_any_role_may_report_for_own_team_only(pipeline_network, client_for):
    field_worker = user_make()  # no role at all
    team_make("OWN", members=[field_worker])
    own = FieldTeam.objects.get(code="OWN")
    client = client_for(field_worker)

    mine = client.post(f"{TEAMS}{own.pk}/position/", {"latitude": 1, "longitude": 2}, format="json")
    other = client.post(
        f"{TEAMS}{pipeline_network.crew.pk}/position/",
        {"latitude": 1, "longitude": 2},
        format="json",
    )

    assert mine.status_code == 200, mine.content
    assert other.status_code == 404


def test_a_manager_reports_for_any_team_and_a_viewer_may_not(pipeline_network, client_for):
    manager = user_make(roles=["manager"])
    viewer = user_make(roles=["viewer"])
    path = f"{TEAMS}{pipeline_network.standby.pk}/position/"

    by_manager = client_for(manager).post(path, {"latitude": 5, "longitude": 6}, format="json")
    by_viewer = client_for(viewer).post(path, {"latitude": 7, "longitude": 8}, format="json")

    assert by_manager.status_code == 200, by_manager.content
    assert by_viewer.status_code == 403
    team = FieldTeam.objects.get(pk=pipeline_network.standby.pk)
    assert (team.last_latitude, team.last_longitude) == (5, 6)


@pytest.mark.parametrize(
    "body",
    [{"latitude": 91, "longitude": 0}, {"latitude": 0}, {"latitude": "x", "longitude": 0}],
    ids=["lat-91", "missing-lon", "text"],
)
def test_a_bad_position_is_a_400_and_changes_nothing(admin, pipeline_network, body):
    response = admin.post(f"{TEAMS}{pipeline_network.crew.pk}/position/", body, format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert FieldTeam.objects.get(pk=pipeline_network.crew.pk).last_latitude is None


def test_delete_is_soft_and_refused_while_an_incident_is_assigned(admin, pipeline_network):
    team = pipeline_network.crew
    incident = Incident.objects.create(
        number="INC-TEST-1",
        title="Burst main",
        severity="high",
        source="manual",
        zone=pipeline_network.north,
        latitude=52.37,
        longitude=4.89,
        status="assigned",
        assigned_team=team,
    )

    refused = admin.delete(f"{TEAMS}{team.pk}/")
    Incident.objects.filter(pk=incident.pk).update(status="closed", resolution="Fixed")
    deleted = admin.delete(f"{TEAMS}{team.pk}/")

    assert refused.status_code == 409
    assert error_of(refused)["code"] == "pipeline.in_use"
    assert deleted.status_code == 204
    assert FieldTeam.all_objects.get(pk=team.pk).is_deleted
    assert "CREW" not in _codes(admin.get(TEAMS))
