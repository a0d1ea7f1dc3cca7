"""The incident board and incident pages: signed-in staff of a tenant with the pipeline
module see the unclosed incidents of the zones they may see, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.pipeline.tests.helpers_board import incident_make
from tests.personas import HOSTS, PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

BETA = HOSTS[TENANT_B]


def _signed_in(client, user) -> None:
    client.force_login(user)


def test_board_lists_unclosed_incidents_of_visible_zones_only(client, pipeline_network, zone_user):
    now = timezone.now()
    older = incident_make(
        zone=pipeline_network.north, title="Older leak", opened_at=now - timedelta(hours=2)
    )
    # A sub-zone of a granted zone is visible too.
    newer = incident_make(
        zone=pipeline_network.north_1,
        title="Valve stuck",
        severity="critical",
        asset=pipeline_network.north1_valve,
        assigned_team=pipeline_network.crew,
        escalation_level=2,
        opened_at=now - timedelta(minutes=5),
    )
    hidden = incident_make(zone=pipeline_network.south, title="Pump noise")
    closed = incident_make(
        zone=pipeline_network.north, title="Old fix", status="closed", resolution="Fixed."
    )
    user = zone_user(zones=[pipeline_network.north])
    _signed_in(client, user)

    response = client.get("/pipeline/incidents/", HTTP_HOST=BETA)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(newer.number) < html.index(older.number)
    assert 'data-severity="critical"' in html
    assert pipeline_network.north1_valve.code in html
    assert pipeline_network.crew.name in html
    for absent in (hidden, closed):
        assert absent.number not in html
        assert absent.title not in html
    # The page knows which zones it shows: events of other zones are dropped client-side.
    assert str(pipeline_network.north_1.pk) in html
    assert str(pipeline_network.south.pk) not in html
    assert "pipeline/board.js" in html


def test_a_user_of_every_zone_sees_every_unclosed_incident(client, pipeline_network):
    from tests.fixtures import persona

    north = incident_make(zone=pipeline_network.north)
    south = incident_make(zone=pipeline_network.south)
    _signed_in(client, persona(TENANT_B, "admin"))

    html = client.get("/pipeline/incidents/", HTTP_HOST=BETA).content.decode()

    assert north.number in html
    assert south.number in html


def test_a_user_without_zone_grants_sees_an_empty_board(client, pipeline_network, zone_user):
    incident = incident_make(zone=pipeline_network.north)
    _signed_in(client, zone_user())

    response = client.get("/pipeline/incidents/", HTTP_HOST=BETA)

    assert response.status_code == 200
    assert incident.number not in response.content.decode()
    assert "No open incidents." in response.content.decode()


def test_rows_fragment_is_scoped_like_the_board(client, pipeline_network, zone_user):
    shown = incident_make(zone=pipeline_network.south)
    hidden = incident_make(zone=pipeline_network.north)
    _signed_in(client, zone_user(zones=[pipeline_network.south]))

    response = client.get("/pipeline/incidents/rows/", HTTP_HOST=BETA)

    assert response.status_code == 200
    assert shown.number in response.content.decode()
    assert hidden.number not in response.content.decode()
    assert "<html" not in response.content.decode()


def test_incident_page_shows_the_timeline_and_hides_other_zones(
    client, pipeline_network, zone_user
):
    from apps.pipeline.models import DispatchOffer, IncidentEvent

    incident = incident_make(zone=pipeline_network.north, title="Burst on Main St")
    IncidentEvent.objects.create(incident=incident, kind="opened", message="Reported by phone")
    IncidentEvent.objects.create(incident=incident, kind="note", message="Crew on the way")
    DispatchOffer.objects.create(
        incident=incident,
        team=pipeline_network.crew,
        distance_km=2.345,
        respond_by=timezone.now() + timedelta(minutes=10),
    )
    other = incident_make(zone=pipeline_network.south)
    _signed_in(client, zone_user(zones=[pipeline_network.north]))

    page = client.get(f"/pipeline/incidents/{incident.pk}/", HTTP_HOST=BETA)
    foreign = client.get(f"/pipeline/incidents/{other.pk}/", HTTP_HOST=BETA)

    html = page.content.decode()
    assert page.status_code == 200
    assert "Burst on Main St" in html
    assert html.index("Reported by phone") < html.index("Crew on the way")
    assert f"{pipeline_network.crew.code} {pipeline_network.crew.name}" in html
    assert "2.3 km" in html
    assert foreign.status_code == 404


def test_pages_require_sign_in(client):
    for url in ("/pipeline/", "/pipeline/incidents/", "/pipeline/incidents/rows/"):
        response = client.get(url, HTTP_HOST=BETA)

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_user_without_incident_permission_is_refused(client, pipeline_network, zone_user):
    _signed_in(client, zone_user(zones=[pipeline_network.north], roles=()))

    board = client.get("/pipeline/incidents/", HTTP_HOST=BETA)
    landing = client.get("/pipeline/", HTTP_HOST=BETA)

    assert board.status_code == 403
    assert landing.status_code == 200
    assert "no access to incidents" in landing.content.decode()


def test_pages_do_not_exist_for_a_tenant_without_the_module(client):
    client.post(
        "/accounts/login/",
        {"username": "admin", "password": PASSWORD},
        HTTP_HOST=HOSTS[TENANT_A],
    )

    for url in ("/pipeline/", "/pipeline/incidents/", "/pipeline/reports/"):
        assert client.get(url, HTTP_HOST=HOSTS[TENANT_A]).status_code == 404


def test_landing_links_the_board(client, in_tenant_b):
    from tests.fixtures import persona

    _signed_in(client, persona(TENANT_B, "staff"))

    response = client.get("/pipeline/", HTTP_HOST=BETA)

    assert response.status_code == 200
    assert 'href="/pipeline/incidents/"' in response.content.decode()


def test_a_handler_acknowledges_from_the_board(client, pipeline_network, zone_user):
    from apps.pipeline.models import Incident

    incident = incident_make(zone=pipeline_network.north)
    done = incident_make(zone=pipeline_network.north, status="acknowledged")
    _signed_in(client, zone_user(zones=[pipeline_network.north], roles=["manager"]))

    board = client.get("/pipeline/incidents/", HTTP_HOST=BETA).content.decode()
    response = client.post(f"/pipeline/incidents/{incident.pk}/acknowledge/", HTTP_HOST=BETA)

    assert f'action="/pipeline/incidents/{incident.pk}/acknowledge/"' in board
    assert f"/pipeline/incidents/{done.pk}/acknowledge/" not in board
    assert response.status_code == 302
    assert response["Location"] == "/pipeline/incidents/"
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


def test_acknowledge_answers_json_to_the_board_script(client, pipeline_network, zone_user):
    from apps.pipeline.models import Incident

    incident = incident_make(zone=pipeline_network.north, status="acknowledged")
    _signed_in(client, zone_user(zones=[pipeline_network.north], roles=["manager"]))

    again = client.post(
        f"/pipeline/incidents/{incident.pk}/acknowledge/",
        HTTP_HOST=BETA,
        HTTP_ACCEPT="application/json",
    )

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "pipeline.invalid_transition"
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


def test_only_handlers_of_visible_zones_acknowledge(client, pipeline_network, zone_user):
    from apps.pipeline.models import Incident

    incident = incident_make(zone=pipeline_network.north)
    hidden = incident_make(zone=pipeline_network.south)
    _signed_in(client, zone_user(zones=[pipeline_network.north], roles=["staff"]))
    viewer_board = client.get("/pipeline/incidents/", HTTP_HOST=BETA).content.decode()
    refused = client.post(
        f"/pipeline/incidents/{incident.pk}/acknowledge/",
        HTTP_HOST=BETA,
        HTTP_ACCEPT="application/json",
    )
    _signed_in(client, zone_user(zones=[pipeline_network.north], roles=["manager"]))
    foreign = client.post(f"/pipeline/incidents/{hidden.pk}/acknowledge/", HTTP_HOST=BETA)
    read = client.get(f"/pipeline/incidents/{incident.pk}/acknowledge/", HTTP_HOST=BETA)

    assert "Acknowledge" not in viewer_board
    assert refused.status_code == 403
    assert foreign.status_code == 404
    assert read.status_code == 405
    assert Incident.objects.get(pk=incident.pk).status == "open"
    assert Incident.objects.get(pk=hidden.pk).status == "open"


def test_acknowledge_never_redirects_off_site(client, pipeline_network, zone_user):
    incident = incident_make(zone=pipeline_network.north)
    _signed_in(client, zone_user(zones=[pipeline_network.north], roles=["manager"]))

    response = client.post(
        f"/pipeline/incidents/{incident.pk}/acknowledge/",
        {"next": "https://evil.example/"},
        HTTP_HOST=BETA,
    )

    assert response["Location"] == "/pipeline/incidents/"
