"""Zones through the API: the tree, cycles, in-use refusals, taken codes, bad input."""

from __future__ import annotations

import pytest

from apps.pipeline.models import Zone
from apps.pipeline.tests.conftest import error_of
from apps.pipeline.tests.factories import asset_make, zone_make
from tests.personas import TENANT_B

pytestmark = pytest.mark.django_db

ZONES = "/api/v1/pipeline/zones/"


@pytest.fixture
def admin(api_client):
    return api_client(TENANT_B, "admin")


def _detail(zone) -> str:
    return f"{ZONES}{zone.pk}/"


def test_lists_the_tree_with_parent_path_and_depth(admin, pipeline_network):
    response = admin.get(ZONES, {"ordering": "code"})

    assert response.status_code == 200, response.content
    rows = {row["code"]: row for row in response.json()["results"]}
    assert rows["NET"]["parent"] is None
    assert rows["NET"]["depth"] == 0
    assert rows["NORTH"]["parent"] == str(pipeline_network.root.pk)
    assert rows["NORTH-1"]["path"] == ["NET", "NORTH", "NORTH-1"]
    assert rows["NORTH-1"]["depth"] == 2


def test_filters_by_parent_and_top_level(admin, pipeline_network):
    children = admin.get(ZONES, {"parent": str(pipeline_network.root.pk)}).json()["results"]
    top = admin.get(ZONES, {"top_level": "true"}).json()["results"]

    assert {row["code"] for row in children} == {"NORTH", "SOUTH"}
    assert {row["code"] for row in top} == {"NET"}


def test_creates_a_district_under_a_network(admin, pipeline_network):
    response = admin.post(
        ZONES,
        {
            "code": "EAST",
            "name": "East DMA",
            "parent": str(pipeline_network.root.pk),
            "loss_alarm_pct": 12.5,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "district"
    assert body["path"] == ["NET", "EAST"]
    assert body["loss_alarm_pct"] == 12.5
    assert Zone.objects.get(code="EAST").parent == pipeline_network.root


def test_renames_a_zone(admin, pipeline_network):
    response = admin.patch(_detail(pipeline_network.south), {"name": "Southern"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Southern"
    pipeline_network.south.refresh_from_db()
    assert pipeline_network.south.name == "Southern"


def test_moves_a_zone_under_another(admin, pipeline_network):
    net = pipeline_network
    response = admin.patch(_detail(net.north_1), {"parent": str(net.south.pk)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["path"] == ["NET", "SOUTH", "NORTH-1"]


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_refuses_a_cycle(admin, pipeline_network, target):
    net = pipeline_network
    new_parent = {"self": net.root, "child": net.north, "grandchild": net.north_1}[target]

    response = admin.patch(_detail(net.root), {"parent": str(new_parent.pk)}, format="json")

    assert response.status_code == 409, response.content
    assert error_of(response)["code"] == "pipeline.zone_cycle"
    net.root.refresh_from_db()
    assert net.root.parent is None


def test_refuses_deleting_a_zone_with_sub_zones(admin, pipeline_network):
    response = admin.delete(_detail(pipeline_network.north))

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.in_use"
    assert Zone.objects.filter(pk=pipeline_network.north.pk).exists()


def test_refuses_deleting_a_zone_with_assets_even_deleted_ones(admin, in_tenant_b):
    zone = zone_make()
    asset = asset_make(zone=zone)
    asset.deleted_at = asset.created_at
    asset.save()

    response = admin.delete(_detail(zone))

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.in_use"


def test_deletes_an_empty_zone(admin, in_tenant_b):
    zone = zone_make(parent=zone_make())

    response = admin.delete(_detail(zone))

    assert response.status_code == 204
    assert not Zone.objects.filter(pk=zone.pk).exists()


def test_refuses_a_taken_code(admin, pipeline_network):
    before = Zone.objects.count()

    response = admin.post(
        ZONES,
        {"code": "NORTH", "name": "Again", "parent": str(pipeline_network.root.pk)},
        format="json",
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.code_taken"
    assert Zone.objects.count() == before


def test_refuses_renaming_to_a_taken_code(admin, pipeline_network):
    response = admin.patch(_detail(pipeline_network.south), {"code": "NORTH"}, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.code_taken"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "X1", "name": "X", "parent": "00000000-0000-4000-8000-000000000999"}, "parent"),
        ({"code": "bad code!", "name": "X"}, "code"),
        ({"code": "X1", "name": "X", "kind": "ocean"}, "kind"),
        ({"code": "X1", "name": "X", "loss_alarm_pct": 101}, "loss_alarm_pct"),
        ({"code": "X1"}, "name"),
        ({"code": "X1", "name": "X", "colour": "blue"}, "colour"),
    ],
    ids=["unknown-parent", "bad-code", "bad-kind", "pct-over-100", "missing-name", "unknown"],
)
def test_bad_input_is_a_400_naming_the_field(admin, pipeline_network, payload, field):
    before = Zone.objects.count()

    response = admin.post(ZONES, payload, format="json")

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert Zone.objects.count() == before


def test_viewer_may_read_but_not_write(api_client, pipeline_network, zone_user, client_for):
    client = client_for(zone_user(zones=[pipeline_network.root]))

    assert client.get(_detail(pipeline_network.north)).status_code == 200
    response = client.patch(_detail(pipeline_network.north), {"name": "No"}, format="json")

    assert response.status_code == 403
    assert error_of(response)["details"] == {"permission": "pipeline.change_zone"}


def test_a_scoped_user_cannot_create_a_top_level_zone(pipeline_network, zone_user, client_for):
    user = zone_user(zones=[pipeline_network.north], permissions=["pipeline.add_zone"])

    response = client_for(user).post(ZONES, {"code": "TOP", "name": "Top"}, format="json")

    assert response.status_code == 403
    assert not Zone.objects.filter(code="TOP").exists()


def test_a_scoped_user_creates_under_a_granted_zone(pipeline_network, zone_user, client_for):
    net = pipeline_network
    user = zone_user(zones=[net.north], permissions=["pipeline.add_zone"])

    inside = client_for(user).post(
        ZONES, {"code": "N-2", "name": "N2", "parent": str(net.north.pk)}, format="json"
    )
    outside = client_for(user).post(
        ZONES, {"code": "S-2", "name": "S2", "parent": str(net.south.pk)}, format="json"
    )

    assert inside.status_code == 201, inside.content
    assert outside.status_code == 400
    assert error_of(outside)["fields"] == {"parent": ["Unknown zone."]}
    assert not Zone.objects.filter(code="S-2").exists()


def test_module_switched_off_is_404(api_client, pipeline_network):
    response = api_client("alpha", "admin").get(ZONES)

    assert response.status_code == 404
