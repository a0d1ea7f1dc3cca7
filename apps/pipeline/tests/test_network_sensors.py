"""Sensors and devices through the API: zone from the asset, ranges, calibration, devices
that must exist, soft deletes and in-use refusals."""

from __future__ import annotations

import pytest

from apps.pipeline.models import Device, Sensor
from apps.pipeline.tests.conftest import error_of
from apps.pipeline.tests.factories import device_make
from tests.personas import TENANT_B

pytestmark = pytest.mark.django_db

SENSORS = "/api/v1/pipeline/sensors/"
DEVICES = "/api/v1/pipeline/devices/"
UNKNOWN = "00000000-0000-4000-8000-000000000999"


@pytest.fixture
def admin(api_client):
    return api_client(TENANT_B, "admin")


def _codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def _sensor(asset, /, **changes):
    payload = {
        "code": "S-NEW",
        "asset": str(asset.pk),
        "kind": "pressure",
        "unit": "bar",
        "valid_min": 0,
        "valid_max": 10,
        "calibration_factor": 1.02,
        "calibration_offset": -0.1,
        "calibrated_on": "2025-01-15",
        "reference_value": 3.5,
        "expected_interval_seconds": 60,
    }
    payload.update(changes)
    return payload


# --- sensors ---------------------------------------------------------------------------------


def test_creates_a_sensor_in_its_assets_zone(admin, pipeline_network):
    net = pipeline_network

    response = admin.post(
        SENSORS, _sensor(net.north1_valve, device=str(net.logger.pk)), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["zone"] == str(net.north_1.pk)
    assert body["device"] == str(net.logger.pk)
    assert body["calibration_factor"] == 1.02
    assert Sensor.objects.get(code="S-NEW").zone == net.north_1


def test_a_new_asset_brings_its_zone(admin, pipeline_network):
    net = pipeline_network

    response = admin.patch(
        f"{SENSORS}{net.north_flow.pk}/", {"asset": str(net.south_pump.pk)}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["zone"] == str(net.south.pk)
    net.north_flow.refresh_from_db()
    assert net.north_flow.zone == net.south


def test_filters_sensors(admin, pipeline_network):
    net = pipeline_network
    Sensor.objects.filter(pk=net.south_flow.pk).update(is_active=False)

    assert _codes(admin.get(SENSORS, {"zone": str(net.north.pk)})) == {
        "S-NORTH-FLOW",
        "S-NORTH-PRESSURE",
        "S-NORTH1-PRESSURE",
    }
    assert _codes(admin.get(SENSORS, {"kind": "pressure"})) == {
        "S-NORTH-PRESSURE",
        "S-NORTH1-PRESSURE",
    }
    assert _codes(admin.get(SENSORS, {"device": str(net.logger.pk)})) == {
        "S-NORTH-FLOW",
        "S-NORTH-PRESSURE",
    }
    assert _codes(admin.get(SENSORS, {"asset": str(net.north1_valve.pk)})) == {"S-NORTH1-PRESSURE"}
    assert _codes(admin.get(SENSORS, {"is_active": "false"})) == {"S-SOUTH-FLOW"}


def test_a_range_update_is_checked_against_the_stored_bound(admin, pipeline_network):
    # Stored range 0..16: a new minimum of 20 alone crosses the stored maximum.
    sensor = pipeline_network.north_pressure

    response = admin.patch(f"{SENSORS}{sensor.pk}/", {"valid_min": 20}, format="json")

    assert response.status_code == 400
    assert "valid_max" in error_of(response)["fields"]
    sensor.refresh_from_db()
    assert sensor.valid_min == 0


def test_delete_is_soft_and_deactivates(admin, pipeline_network):
    sensor = pipeline_network.south_flow

    response = admin.delete(f"{SENSORS}{sensor.pk}/")

    assert response.status_code == 204
    stored = Sensor.all_objects.get(pk=sensor.pk)
    assert stored.is_deleted
    assert not stored.is_active
    assert admin.get(f"{SENSORS}{sensor.pk}/").status_code == 404


def test_refuses_a_taken_code(admin, pipeline_network):
    response = admin.post(
        SENSORS, _sensor(pipeline_network.south_pump, code="S-NORTH-FLOW"), format="json"
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "pipeline.code_taken"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valid_min": 10, "valid_max": 10}, "valid_max"),
        ({"valid_min": 11, "valid_max": 10}, "valid_max"),
        ({"calibration_factor": 0}, "calibration_factor"),
        ({"device": UNKNOWN}, "device"),
        ({"asset": UNKNOWN}, "asset"),
        ({"kind": "smell"}, "kind"),
        ({"unit": ""}, "unit"),
        ({"expected_interval_seconds": 0}, "expected_interval_seconds"),
        ({"valid_max": "Infinity"}, "valid_max"),
        ({"valid_max": 1e300}, "valid_max"),
        ({"balance_role": "sideways"}, "balance_role"),
    ],
    ids=[
        "min-equals-max",
        "min-above-max",
        "factor-0",
        "unknown-device",
        "unknown-asset",
        "kind",
        "unit-empty",
        "interval-0",
        "infinity",
        "huge",
        "balance-role",
    ],
)
def test_bad_sensor_input_is_a_400_and_stores_nothing(admin, pipeline_network, changes, field):
    before = Sensor.all_objects.count()

    response = admin.post(SENSORS, _sensor(pipeline_network.south_pump, **changes), format="json")

    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"]
    assert Sensor.all_objects.count() == before


def test_a_deleted_device_is_unknown(admin, pipeline_network):
    device = device_make(deleted_at=pipeline_network.root.created_at)

    response = admin.post(
        SENSORS, _sensor(pipeline_network.south_pump, device=str(device.pk)), format="json"
    )

    assert response.status_code == 400
    assert error_of(response)["fields"] == {"device": ["Unknown device."]}


# --- devices ---------------------------------------------------------------------------------


def test_creates_and_moves_a_device(admin, pipeline_network):
    net = pipeline_network

    created = admin.post(
        DEVICES,
        {"code": "LOGGER-2", "name": "Pump logger", "asset": str(net.south_pump.pk)},
        format="json",
    )
    moved = admin.patch(
        f"{DEVICES}{created.json()['id']}/", {"asset": str(net.north_main.pk)}, format="json"
    )

    assert created.status_code == 201, created.content
    assert created.json()["zone"] == str(net.south.pk)
    assert moved.status_code == 200, moved.content
    assert moved.json()["zone"] == str(net.north.pk)


def test_an_unattached_device_is_listed_for_access_all_zones(admin, pipeline_network):
    response = admin.post(DEVICES, {"code": "SPARE", "name": "Spare"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["asset"] is None
    assert "SPARE" in _codes(admin.get(DEVICES))


def test_filters_devices_by_zone(admin, pipeline_network):
    device_make("LOGGER-S", asset=pipeline_network.south_pump)

    assert _codes(admin.get(DEVICES, {"zone": str(pipeline_network.root.pk)})) == {
        "LOGGER-1",
        "LOGGER-S",
    }
    assert _codes(admin.get(DEVICES, {"zone": str(pipeline_network.south.pk)})) == {"LOGGER-S"}


def test_device_delete_is_refused_while_sensors_are_wired(admin, pipeline_network):
    net = pipeline_network

    refused = admin.delete(f"{DEVICES}{net.logger.pk}/")
    Sensor.objects.filter(device=net.logger).update(device=None)
    deleted = admin.delete(f"{DEVICES}{net.logger.pk}/")

    assert refused.status_code == 409
    assert error_of(refused)["code"] == "pipeline.in_use"
    assert deleted.status_code == 204
    assert Device.all_objects.get(pk=net.logger.pk).is_deleted
    assert "LOGGER-1" not in _codes(admin.get(DEVICES))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "D-1", "name": "x", "asset": UNKNOWN}, "asset"),
        ({"code": "has space", "name": "x"}, "code"),
        ({"code": "D-1"}, "name"),
    ],
    ids=["unknown-asset", "bad-code", "missing-name"],
)
def test_bad_device_input_is_a_400(admin, pipeline_network, payload, field):
    before = Device.all_objects.count()

    response = admin.post(DEVICES, payload, format="json")

    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"]
    assert Device.all_objects.count() == before
