"""The network services called directly, as the admin, tasks and the demo do."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.core.errors import NotFoundError, PermissionDeniedError
from apps.pipeline.errors import InUseError
from apps.pipeline.models import Zone
from apps.pipeline.services import network as services
from apps.pipeline.tests.conftest import pipeline_actor

pytestmark = pytest.mark.django_db


def test_a_top_level_zone_defaults_to_a_network_and_a_child_to_a_district(in_tenant_b):
    actor = pipeline_actor("admin")

    root = services.zone_create(actor=actor, code="W", name="Waterworks")
    child = services.zone_create(actor=actor, code="W-1", name="DMA 1", parent_id=root.pk)

    assert (root.kind, child.kind) == (Zone.Kind.NETWORK, Zone.Kind.DISTRICT)
    assert child.path == ["W", "W-1"]


def test_services_check_the_model_permission(pipeline_network):
    staff = pipeline_actor("staff")

    with pytest.raises(PermissionDeniedError):
        services.asset_update(actor=staff, asset=pipeline_network.north_main, data={"name": "x"})


def test_services_hide_records_of_other_zones(pipeline_network, zone_user):
    user = zone_user(zones=[pipeline_network.north], permissions=["pipeline.delete_sensor"])
    actor = pipeline_actor(user)

    with pytest.raises(NotFoundError):
        services.sensor_delete(actor=actor, sensor=pipeline_network.south_flow)


def test_every_bad_field_is_named_at_once(pipeline_network):
    actor = pipeline_actor("admin")

    with pytest.raises(ValidationError) as raised:
        services.sensor_create(
            actor=actor,
            code="bad code",
            asset_id=pipeline_network.south_pump.pk,
            kind="flow",
            unit="",
            valid_min=5.0,
            valid_max=1.0,
            calibration_factor=0.0,
        )

    assert set(raised.value.message_dict) == {"code", "unit", "valid_max", "calibration_factor"}


def test_a_zone_with_incidents_is_in_use(in_tenant_b):
    from apps.pipeline.models import Incident

    actor = pipeline_actor("admin")
    zone = services.zone_create(actor=actor, code="LONE", name="Lone")
    Incident.objects.create(
        number="INC-ZONE-1",
        title="Reported leak",
        severity="low",
        source="manual",
        zone=zone,
        latitude=1,
        longitude=1,
    )

    with pytest.raises(InUseError):
        services.zone_delete(actor=actor, zone=zone)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("Welding", "welding"), ("  valve   repair ", "valve repair"), ("CCTV-2", "cctv-2")],
)
def test_skill_normalize(raw, normalised):
    assert services.skill_normalize(raw) == normalised


@pytest.mark.parametrize("raw", ["", "   ", "x" * 33, "drop;table", 7])
def test_skill_normalize_refuses(raw):
    with pytest.raises(ValueError, match="skill"):
        services.skill_normalize(raw)
