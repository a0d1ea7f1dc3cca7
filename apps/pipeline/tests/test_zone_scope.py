"""The zone row scope: grants cover sub-zones, access_all_zones sees everything."""

from __future__ import annotations

import pytest

from apps.pipeline.models import Asset, Sensor
from apps.pipeline.selectors.network import zone_ids_visible, zone_scope_filter
from apps.pipeline.tests.conftest import pipeline_actor

pytestmark = pytest.mark.django_db


def test_a_grant_covers_the_zone_and_its_sub_zones(pipeline_network, zone_user):
    net = pipeline_network
    actor = pipeline_actor(zone_user(zones=[net.north]))

    assert zone_ids_visible(actor=actor) == {str(net.north.pk), str(net.north_1.pk)}
    codes = set(zone_scope_filter(Asset.objects.all(), actor=actor).values_list("code", flat=True))
    assert codes == {"A-NORTH-MAIN", "A-NORTH1-VALVE"}


def test_access_all_zones_sees_every_zone(pipeline_network):
    actor = pipeline_actor("admin")

    assert zone_ids_visible(actor=actor) is None
    assert zone_scope_filter(Asset.objects.all(), actor=actor).count() == 3


def test_no_grant_sees_nothing(pipeline_network):
    actor = pipeline_actor("staff")

    assert zone_scope_filter(Asset.objects.all(), actor=actor).count() == 0


# --- through the API -----------------------------------------------------------------------

API = "/api/v1/pipeline"


def _codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def test_a_dma_user_lists_only_its_zones_records(pipeline_network, zone_user, client_for):
    client = client_for(zone_user(zones=[pipeline_network.north]))

    assert _codes(client.get(f"{API}/zones/")) == {"NORTH", "NORTH-1"}
    assert _codes(client.get(f"{API}/assets/")) == {"A-NORTH-MAIN", "A-NORTH1-VALVE"}
    assert _codes(client.get(f"{API}/sensors/")) == {
        "S-NORTH-FLOW",
        "S-NORTH-PRESSURE",
        "S-NORTH1-PRESSURE",
    }
    assert _codes(client.get(f"{API}/devices/")) == {"LOGGER-1"}


def test_a_sub_zone_grant_sees_only_the_sub_zone(pipeline_network, zone_user, client_for):
    client = client_for(zone_user(zones=[pipeline_network.north_1]))

    assert _codes(client.get(f"{API}/assets/")) == {"A-NORTH1-VALVE"}
    assert _codes(client.get(f"{API}/sensors/")) == {"S-NORTH1-PRESSURE"}
    assert _codes(client.get(f"{API}/devices/")) == set()


def test_a_filter_on_another_zone_shows_nothing(pipeline_network, zone_user, client_for):
    client = client_for(zone_user(zones=[pipeline_network.north]))

    assert _codes(client.get(f"{API}/assets/", {"zone": str(pipeline_network.south.pk)})) == set()


@pytest.mark.parametrize(
    ("kind", "attribute"),
    [
        ("zones", "south"),
        ("zones", "root"),
        ("assets", "south_pump"),
        ("sensors", "south_flow"),
    ],
)
def test_another_zones_record_is_404(pipeline_network, zone_user, client_for, kind, attribute):
    client = client_for(zone_user(zones=[pipeline_network.north]))

    response = client.get(f"{API}/{kind}/{getattr(pipeline_network, attribute).pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_changes_outside_the_zones_are_404_even_with_permissions(
    pipeline_network, zone_user, client_for
):
    net = pipeline_network
    user = zone_user(
        zones=[net.north],
        permissions=["pipeline.change_asset", "pipeline.delete_sensor", "pipeline.change_zone"],
    )
    client = client_for(user)

    asset = client.patch(f"{API}/assets/{net.south_pump.pk}/", {"name": "x"}, format="json")
    sensor = client.delete(f"{API}/sensors/{net.south_flow.pk}/")
    zone = client.patch(f"{API}/zones/{net.south.pk}/", {"name": "x"}, format="json")
    own = client.patch(f"{API}/assets/{net.north_main.pk}/", {"name": "Main"}, format="json")

    assert (asset.status_code, sensor.status_code, zone.status_code) == (404, 404, 404)
    assert own.status_code == 200, own.content
    net.south_pump.refresh_from_db()
    assert net.south_pump.name == "Asset A-SOUTH-PUMP"
    assert Sensor.objects.filter(pk=net.south_flow.pk).exists()


def test_creating_or_moving_into_another_zone_is_refused(pipeline_network, zone_user, client_for):
    net = pipeline_network
    user = zone_user(
        zones=[net.north],
        permissions=["pipeline.add_asset", "pipeline.change_asset", "pipeline.add_sensor"],
    )
    client = client_for(user)
    asset = {
        "code": "A-X",
        "name": "X",
        "kind": "meter",
        "zone": str(net.south.pk),
        "latitude": 1,
        "longitude": 1,
    }
    sensor = {
        "code": "S-X",
        "asset": str(net.south_pump.pk),
        "kind": "flow",
        "unit": "m3/h",
        "valid_min": 0,
        "valid_max": 1,
    }

    created = client.post(f"{API}/assets/", asset, format="json")
    moved = client.patch(
        f"{API}/assets/{net.north_main.pk}/", {"zone": str(net.south.pk)}, format="json"
    )
    sensor_created = client.post(f"{API}/sensors/", sensor, format="json")

    assert created.status_code == 400
    assert created.json()["error"]["fields"] == {"zone": ["Unknown zone."]}
    assert moved.status_code == 400
    assert sensor_created.status_code == 400
    assert sensor_created.json()["error"]["fields"] == {"asset": ["Unknown asset."]}
    assert not Asset.all_objects.filter(code="A-X").exists()
    net.north_main.refresh_from_db()
    assert net.north_main.zone == net.north


def test_access_all_zones_holder_sees_everything(pipeline_network, zone_user, client_for):
    client = client_for(zone_user(roles=["staff"], permissions=["pipeline.access_all_zones"]))

    assert _codes(client.get(f"{API}/zones/")) == {"NET", "NORTH", "NORTH-1", "SOUTH"}
    assert len(_codes(client.get(f"{API}/sensors/"))) == 4


def test_audience_of_a_zone(pipeline_network, zone_user):
    from apps.accounts.models import User
    from apps.pipeline.selectors.network import zone_audience_user_ids

    north_user = zone_user(zones=[pipeline_network.north])
    south_user = zone_user(zones=[pipeline_network.south])

    audience = set(zone_audience_user_ids(zone_id=pipeline_network.north_1.pk))

    assert north_user.pk in audience
    assert south_user.pk not in audience
    assert User.objects.get(username="admin").pk in audience
