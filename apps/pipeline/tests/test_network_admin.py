"""The network admin applies the services' rules: zone cycles refused, sensors take their
asset's zone, deletes are soft and refused while in use, lists are module-gated."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.core.tenancy import in_tenant
from apps.pipeline.models import Asset, Sensor, Zone
from tests.personas import HOSTS, PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _client(schema_name: str = TENANT_B) -> Client:
    client = Client(HTTP_HOST=HOSTS[schema_name])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_change_form_refuses_a_zone_cycle(pipeline_network):
    net = pipeline_network

    response = _client().post(
        f"/admin/pipeline/zone/{net.root.pk}/change/",
        {
            "code": "NET",
            "name": "Network",
            "kind": "network",
            "parent": str(net.north_1.pk),
            "loss_alarm_pct": "20",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert "cannot sit under itself" in response.content.decode()
    with in_tenant(TENANT_B):
        assert Zone.objects.get(pk=net.root.pk).parent is None


def test_sensor_form_takes_the_assets_zone(pipeline_network):
    net = pipeline_network

    response = _client().post(
        "/admin/pipeline/sensor/add/",
        {
            "code": "S-ADMIN",
            "asset": str(net.south_pump.pk),
            "kind": "flow",
            "unit": "m3/h",
            "valid_min": "0",
            "valid_max": "5",
            "calibration_factor": "1",
            "calibration_offset": "0",
            "expected_interval_seconds": "300",
            "balance_role": "none",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    with in_tenant(TENANT_B):
        assert Sensor.objects.get(code="S-ADMIN").zone_id == net.south.pk


def test_deleting_an_asset_in_use_is_refused_and_keeps_it(pipeline_network):
    net = pipeline_network

    _client().post(f"/admin/pipeline/asset/{net.south_pump.pk}/delete/", {"post": "yes"})

    with in_tenant(TENANT_B):
        assert Asset.objects.filter(pk=net.south_pump.pk).exists()


def test_pipeline_admin_is_hidden_without_the_module(in_tenant_a):
    client = Client(HTTP_HOST=HOSTS[TENANT_A])
    client.post("/admin/login/", {"username": "admin", "password": PASSWORD})

    response = client.get("/admin/pipeline/zone/")

    assert response.status_code in (403, 404)


@pytest.mark.parametrize("model", ["zone", "asset", "sensor", "device", "fieldteam"])
def test_list_and_add_pages_render(pipeline_network, model):
    client = _client()

    listing = client.get(f"/admin/pipeline/{model}/")
    adding = client.get(f"/admin/pipeline/{model}/add/")

    assert listing.status_code == 200
    assert adding.status_code == 200


def test_a_scoped_staff_user_lists_only_their_zones_assets(pipeline_network):
    from apps.pipeline.tests.factories import user_make

    with in_tenant(TENANT_B):
        user = user_make(
            "zone-admin", zones=[pipeline_network.south], permissions=["pipeline.view_asset"]
        )
        user.is_staff = True
        user.save()
    client = Client(HTTP_HOST=HOSTS[TENANT_B])
    client.post("/admin/login/", {"username": "zone-admin", "password": "x-secret-pass-9"})

    page = client.get("/admin/pipeline/asset/").content.decode()

    assert "A-SOUTH-PUMP" in page
    assert "A-NORTH-MAIN" not in page
