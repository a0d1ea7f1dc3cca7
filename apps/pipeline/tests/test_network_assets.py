"""Assets through the API: CRUD, filters, soft delete, sensors following a moved asset."""

from __future__ import annotations

import pytest

from apps.pipeline.models import Asset, Sensor
from apps.pipeline.tests.conftest import error_of
from apps.pipeline.tests.factories import asset_make, sensor_make, zone_make
from tests.personas import TENANT_B

pytestmark = pytest.mark.django_db

ASSETS = "/api/v1/pipeline/assets/"


@pytest.fixture
def admin(api_client):
    return api_client(TENANT_B, "admin")


def _detail(asset) -> str:
    return f"{ASSETS}{asset.pk}/"


def _codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def _valid(home, /, **changes):
    payload = {
        "code": "A-NEW",
        "name": "New valve",
        "kind": "valve",
        "zone": str(home.pk),
        "latitude": 52.35,
        "longitude": 4.91,
        "installed_on": "2021-06-01",
        "attributes": {"diameter_mm": 200, "material": "PVC"},
    }
    payload.update(changes)
    return payload


def test_creates_an_asset(admin, pipeline_network):
    response = admin.post(ASSETS, _valid(pipeline_network.south), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["zone"] == str(pipeline_network.south.pk)
    assert body["status"] == "active"
    assert body["attributes"] == {"diameter_mm": 200, "material": "PVC"}
    assert Asset.objects.get(code="A-NEW").created_by.username == "admin"


def test_filters_by_zone_including_sub_zones(admin, pipeline_network):
    north = _codes(admin.get(ASSETS, {"zone": str(pipeline_network.north.pk)}))
    south = _codes(admin.get(ASSETS, {"zone": str(pipeline_network.south.pk)}))

    assert north == {"A-NORTH-MAIN", "A-NORTH1-VALVE"}
    assert south == {"A-SOUTH-PUMP"}


def test_filters_by_kind_status_and_search(admin, pipeline_network):
    Asset.objects.filter(pk=pipeline_network.south_pump.pk).update(status="maintenance")

    assert _codes(admin.get(ASSETS, {"kind": "valve"})) == {"A-NORTH1-VALVE"}
    assert _codes(admin.get(ASSETS, {"status": "maintenance"})) == {"A-SOUTH-PUMP"}
    assert _codes(admin.get(ASSETS, {"search": "north"})) == {"A-NORTH-MAIN", "A-NORTH1-VALVE"}


def test_filters_by_bounding_box(admin, pipeline_network):
    # The valve sits at 52.40 / 4.90, the pump at 52.30 / 4.85, the main at 52.37 / 4.89.
    inside = _codes(admin.get(ASSETS, {"bbox": "4.88,52.36,4.95,52.45"}))

    assert inside == {"A-NORTH-MAIN", "A-NORTH1-VALVE"}


@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "5,52,4,53", "4,91,5,92", "", "nan,1,2,3"], ids=repr
)
def test_a_bad_bounding_box_is_a_400(admin, pipeline_network, bbox):
    response = admin.get(ASSETS, {"bbox": bbox})

    assert response.status_code == 400, response.content
    assert "bbox" in error_of(response)["fields"]


def test_moving_an_asset_moves_its_sensors(admin, pipeline_network):
    net = pipeline_network
    deleted = sensor_make(asset=net.north_main, deleted_at=net.north_main.created_at)

    response = admin.patch(_detail(net.north_main), {"zone": str(net.south.pk)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["zone"] == str(net.south.pk)
    zones = set(Sensor.all_objects.filter(asset=net.north_main).values_list("zone", flat=True))
    assert zones == {net.south.pk}
    assert Sensor.all_objects.get(pk=deleted.pk).zone_id == net.south.pk


def test_a_move_to_an_unknown_zone_changes_nothing(admin, pipeline_network):
    net = pipeline_network

    response = admin.patch(
        _detail(net.north_main),
        {"zone": "00000000-0000-4000-8000-000000000999", "name": "Renamed"},
        format="json",
    )

    assert response.status_code == 400
    assert error_of(response)["fields"] == {"zone": ["Unknown zone."]}
    net.north_main.refresh_from_db()
    assert net.north_main.name == "Asset A-NORTH-MAIN"
    assert net.north_main.zone == net.north


def test_delete_is_soft_and_refused_while_sensors_sit_on_it(admin, pipeline_network):
    net = pipeline_network

    refused = admin.delete(_detail(net.south_pump))
    Sensor.objects.filter(asset=net.south_pump).update(deleted_at=net.south_pump.created_at)
    deleted = admin.delete(_detail(net.south_pump))

    assert refused.status_code == 409
    assert error_of(refused)["code"] == "pipeline.in_use"
    assert error_of(refused)["details"]["sensors"] == 1
    assert deleted.status_code == 204
    assert Asset.all_objects.get(pk=net.south_pump.pk).is_deleted
    assert admin.get(_detail(net.south_pump)).status_code == 404
    assert "A-SOUTH-PUMP" not in _codes(admin.get(ASSETS))


def test_delete_is_refused_while_a_device_sits_on_it(admin, pipeline_network):
    Sensor.objects.filter(asset=pipeline_network.north_main).update(
        deleted_at=pipeline_network.north_main.created_at
    )

    response = admin.delete(_detail(pipeline_network.north_main))

    assert response.status_code == 409
    assert error_of(response)["details"]["devices"] == 1


def test_the_code_of_a_deleted_asset_stays_taken(admin, in_tenant_b):
    zone = zone_make()
    asset_make("A-OLD", zone=zone, deleted_at=zone.created_at)

    response = admin.post(ASSETS, _valid(zone, code="A-OLD"), format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.code_taken"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"latitude": 91}, "latitude"),
        ({"longitude": -180.5}, "longitude"),
        ({"latitude": "NaN"}, "latitude"),
        ({"kind": "rocket"}, "kind"),
        ({"zone": "00000000-0000-4000-8000-000000000999"}, "zone"),
        ({"zone": "not-a-uuid"}, "zone"),
        ({"attributes": ["a", "list"]}, "attributes"),
        ({"name": 12}, "name"),
        ({"installed_on": "yesterday"}, "installed_on"),
    ],
    ids=[
        "lat-91",
        "lon-out",
        "lat-nan",
        "kind",
        "unknown-zone",
        "bad-uuid",
        "attributes-list",
        "name-int",
        "bad-date",
    ],
)
def test_bad_input_is_a_400_and_stores_nothing(admin, pipeline_network, changes, field):
    before = Asset.all_objects.count()

    response = admin.post(ASSETS, _valid(pipeline_network.south, **changes), format="json")

    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"]
    assert Asset.all_objects.count() == before


def test_staff_without_change_permission_gets_403(pipeline_network, zone_user, client_for):
    client = client_for(zone_user(zones=[pipeline_network.north]))

    response = client.patch(_detail(pipeline_network.north_main), {"name": "x"}, format="json")

    assert response.status_code == 403
