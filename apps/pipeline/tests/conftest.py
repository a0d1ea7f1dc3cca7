"""Shared fixtures of the pipeline tests. Tenant B has the pipeline module (tests.personas);
rows are made with the plain factories of apps.pipeline.tests.factories.

``pipeline_network`` builds this small network in tenant B::

    NET (network)
    ├── NORTH (district)          asset north_main  (sensors north_flow, north_pressure)
    │   └── NORTH-1 (district)    asset north1_valve (sensor north1_pressure)
    └── SOUTH (district)          asset south_pump  (sensor south_flow)

    device logger (on north_main, wired to north_flow and north_pressure)
    team crew: skills ["pipes", "valves"], the staff persona as a member
    team standby: skills ["pumps"], not available, no members
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.personas import TENANT_B


def error_of(response: Any) -> dict[str, Any]:
    return response.json()["error"]


def pipeline_actor(user_or_persona: Any, schema_name: str = TENANT_B):
    """The Actor of a user (or of a persona named by string) in ``schema_name``, as the
    API would build it: roles, permissions and zone grants read fresh."""
    from apps.accounts.models import User
    from apps.accounts.selectors import actor_for_user
    from apps.core.tenancy import in_tenant

    with in_tenant(schema_name):
        if isinstance(user_or_persona, str):
            user = User.objects.get(username=user_or_persona)
        else:
            # A fresh row: Django caches permissions on the user object.
            user = User.objects.get(pk=user_or_persona.pk)
        return actor_for_user(user=user)


@dataclass
class PipelineNetwork:
    root: Any
    north: Any
    north_1: Any
    south: Any
    north_main: Any
    north1_valve: Any
    south_pump: Any
    north_flow: Any
    north_pressure: Any
    north1_pressure: Any
    south_flow: Any
    logger: Any
    crew: Any
    standby: Any


@pytest.fixture
def pipeline_network(in_tenant_b) -> PipelineNetwork:
    from apps.accounts.models import User
    from apps.pipeline.models import Asset, Sensor
    from apps.pipeline.tests import factories as f

    root = f.zone_make("NET", name="Network")
    north = f.zone_make("NORTH", parent=root, name="North DMA")
    north_1 = f.zone_make("NORTH-1", parent=north, name="North sub-DMA 1")
    south = f.zone_make("SOUTH", parent=root, name="South DMA")
    north_main = f.asset_make("A-NORTH-MAIN", zone=north)
    north1_valve = f.asset_make(
        "A-NORTH1-VALVE", zone=north_1, kind=Asset.Kind.VALVE, latitude=52.40, longitude=4.90
    )
    south_pump = f.asset_make(
        "A-SOUTH-PUMP", zone=south, kind=Asset.Kind.PUMP, latitude=52.30, longitude=4.85
    )
    logger = f.device_make("LOGGER-1", asset=north_main)
    north_flow = f.sensor_make("S-NORTH-FLOW", asset=north_main, device=logger)
    north_pressure = f.sensor_make(
        "S-NORTH-PRESSURE",
        asset=north_main,
        device=logger,
        kind=Sensor.Kind.PRESSURE,
        unit="bar",
        valid_min=0.0,
        valid_max=16.0,
    )
    north1_pressure = f.sensor_make(
        "S-NORTH1-PRESSURE",
        asset=north1_valve,
        kind=Sensor.Kind.PRESSURE,
        unit="bar",
        valid_min=0.0,
        valid_max=16.0,
    )
    south_flow = f.sensor_make("S-SOUTH-FLOW", asset=south_pump)
    crew = f.team_make(
        "CREW", skills=["pipes", "valves"], members=[User.objects.get(username="staff")]
    )
    standby = f.team_make(
        "STANDBY", skills=["pumps"], is_available=False, base_latitude=52.30, base_longitude=4.80
    )
    return PipelineNetwork(
        root=root,
        north=north,
        north_1=north_1,
        south=south,
        north_main=north_main,
        north1_valve=north1_valve,
        south_pump=south_pump,
        north_flow=north_flow,
        north_pressure=north_pressure,
        north1_pressure=north1_pressure,
        south_flow=south_flow,
        logger=logger,
        crew=crew,
        standby=standby,
    )


@pytest.fixture
def zone_user(in_tenant_b):
    """``zone_user(zones=[network.north], roles=["staff"])``: a user of tenant B with
    those built-in roles (default: staff, i.e. view_* only) and zone grants."""
    from apps.pipeline.tests import factories as f

    def make(*, zones: Any = (), roles: Any = ("staff",), permissions: Any = (), **kwargs: Any):
        return f.user_make(zones=zones, roles=roles, permissions=permissions, **kwargs)

    return make


@pytest.fixture
def client_for(api_client):
    """``client_for(user)``: an API client on tenant B's host with that user's token."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from tests.personas import HOSTS

    def make(user: Any) -> APIClient:
        refresh = RefreshToken.for_user(user)
        refresh["tenant"] = TENANT_B
        client = APIClient(HTTP_HOST=HOSTS[TENANT_B])
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
        return client

    return make
