"""GET /api/v1/pipeline/readings/?sensor=: a sensor's readings in a window, calibrated,
within the caller's zones and tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.core.tenancy import in_tenant
from apps.pipeline.tests import conftest_ingestion
from apps.pipeline.tests.conftest import error_of
from apps.pipeline.tests.conftest_ingestion import reading
from tests.personas import HOSTS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db
keyed = conftest_ingestion.keyed
URL = "/api/v1/pipeline/readings/"


@pytest.fixture
def stored(keyed):
    """Three readings of north_flow (calibrated x2 + 1) and one of north_pressure."""
    from apps.pipeline.services.ingestion import readings_ingest

    net = keyed.network
    net.north_flow.calibration_factor = 2.0
    net.north_flow.calibration_offset = 1.0
    net.north_flow.save()
    readings_ingest(
        device=net.logger,
        batch_id="stored",
        readings=[
            reading(net.north_flow, keyed.at(30), 10.0),
            reading(net.north_flow, keyed.at(20), 20.0),
            reading(net.north_flow, keyed.at(10), 30.0),
            reading(net.north_pressure, keyed.at(10), 3.0),
        ],
    )
    return keyed


def test_readings_come_calibrated_oldest_first(stored, api_client):
    net = stored.network

    response = api_client(TENANT_B, "admin").get(URL, {"sensor": str(net.north_flow.pk)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sensor"] == str(net.north_flow.pk)
    assert body["unit"] == "m3/h"
    assert body["truncated"] is False
    assert [(row["value"], row["raw_value"]) for row in body["readings"]] == [
        (21.0, 10.0),
        (41.0, 20.0),
        (61.0, 30.0),
    ]


def test_window_and_limit(stored, api_client):
    net = stored.network
    client = api_client(TENANT_B, "admin")

    window = client.get(
        URL,
        {
            "sensor": str(net.north_flow.pk),
            "since": stored.at(25).isoformat(),
            "until": stored.at(10).isoformat(),
        },
    )
    limited = client.get(URL, {"sensor": str(net.north_flow.pk), "limit": "2"})

    assert [row["raw_value"] for row in window.json()["readings"]] == [20.0]
    assert [row["raw_value"] for row in limited.json()["readings"]] == [10.0, 20.0]
    assert limited.json()["truncated"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "sensor"),
        ({"sensor": "not-a-uuid"}, "sensor"),
        ({"sensor": "SENSOR", "limit": "0"}, "limit"),
        ({"sensor": "SENSOR", "limit": "10001"}, "limit"),
        ({"sensor": "SENSOR", "since": "yesterday"}, "since"),
        ({"sensor": "SENSOR", "colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_400(stored, api_client, params, field):
    sensor_id = str(stored.network.north_flow.pk)
    query = {name: sensor_id if value == "SENSOR" else value for name, value in params.items()}

    response = api_client(TENANT_B, "admin").get(URL, query)

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize("days", [0, 401])
def test_empty_or_too_long_window_is_400(stored, api_client, days):
    until = stored.now
    response = api_client(TENANT_B, "admin").get(
        URL,
        {
            "sensor": str(stored.network.north_flow.pk),
            "since": (until - timedelta(days=days)).isoformat(),
            "until": until.isoformat(),
        },
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "pipeline.reading_window_invalid"


def test_sensor_outside_the_users_zones_is_not_found(stored, client_for):
    from apps.pipeline.tests import factories as f

    net = stored.network
    with in_tenant(TENANT_B):
        south_user = f.user_make(zones=[net.south], roles=["staff"])
        north_user = f.user_make(zones=[net.north], roles=["staff"])

    hidden = client_for(south_user).get(URL, {"sensor": str(net.north_flow.pk)})
    shown = client_for(north_user).get(URL, {"sensor": str(net.north_flow.pk)})

    assert hidden.status_code == 404
    assert error_of(hidden)["code"] == "not_found"
    assert shown.status_code == 200
    assert len(shown.json()["readings"]) == 3


def test_sensor_of_another_tenant_is_not_found(stored, api_client):
    from apps.tenants.models import Tenant, TenantModule
    from apps.tenants.selectors import tenant_hostnames_forget

    TenantModule.objects.update_or_create(
        tenant=Tenant.objects.get(schema_name=TENANT_A),
        module="pipeline",
        defaults={"is_enabled": True},
    )
    tenant_hostnames_forget(hostnames=[HOSTS[TENANT_A]])
    try:
        response = api_client(TENANT_A, "admin").get(
            URL, {"sensor": str(stored.network.north_flow.pk)}
        )
    finally:
        tenant_hostnames_forget(hostnames=[HOSTS[TENANT_A]])

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert "S-NORTH-FLOW" not in response.content.decode()
