"""Cross-tenant specs for the network routes of /api/v1/pipeline/ (merged into
tests.api.routes).

Rows are made with the pipeline factories in B's schema (test_cross_tenant switches the
pipeline module on for both tenants). Each maker's marker is the row's code (or a member's
username), which any representation of it shows.
"""

from __future__ import annotations

import uuid

from tests.api.routes import Spec


def _marker(kind: str) -> str:
    return f"XT-{kind}-{uuid.uuid4().hex[:8]}".upper()


def _make_zone() -> tuple[dict, str]:
    from apps.pipeline.tests.factories import zone_make

    marker = _marker("ZONE")
    return {"zone_id": zone_make(marker).pk}, marker


def _zone_intact(marker: str) -> bool:
    from apps.pipeline.models import Zone

    return Zone.objects.filter(code=marker, name=f"Zone {marker}", parent=None).exists()


def _make_asset() -> tuple[dict, str]:
    from apps.pipeline.tests.factories import asset_make, zone_make

    marker = _marker("ASSET")
    return {"asset_id": asset_make(marker, zone=zone_make()).pk}, marker


def _asset_intact(marker: str) -> bool:
    from apps.pipeline.models import Asset

    return Asset.objects.filter(code=marker, name=f"Asset {marker}").exists()


def _make_sensor() -> tuple[dict, str]:
    from apps.pipeline.tests.factories import asset_make, sensor_make, zone_make

    marker = _marker("SENSOR")
    sensor = sensor_make(marker, asset=asset_make(zone=zone_make()))
    return {"sensor_id": sensor.pk}, marker


def _sensor_intact(marker: str) -> bool:
    from apps.pipeline.models import Sensor

    return Sensor.objects.filter(code=marker, unit="m3/h", valid_max=1000, is_active=True).exists()


def _make_device() -> tuple[dict, str]:
    from apps.pipeline.tests.factories import asset_make, device_make, zone_make

    marker = _marker("DEVICE")
    return {"device_id": device_make(marker, asset=asset_make(zone=zone_make())).pk}, marker


def _device_intact(marker: str) -> bool:
    from apps.pipeline.models import Device

    return Device.objects.filter(code=marker, name=f"Logger {marker}").exists()


def _make_team() -> tuple[dict, str]:
    from apps.pipeline.tests.factories import team_make

    marker = _marker("TEAM")
    return {"team_id": team_make(marker).pk}, marker


def _team_intact(marker: str) -> bool:
    from apps.pipeline.models import FieldTeam

    return FieldTeam.objects.filter(
        code=marker, name=f"Team {marker}", last_latitude=None, is_available=True
    ).exists()


def _make_team_member() -> tuple[dict, str]:
    from apps.pipeline.tests.factories import team_make, user_make

    marker = _marker("MEMBER").lower()
    user = user_make(marker)
    team = team_make(members=[user])
    return {"team_id": team.pk, "user_id": user.pk}, marker


def _team_member_intact(marker: str) -> bool:
    from apps.pipeline.models import TeamMember

    return TeamMember.objects.filter(user__username=marker, role="member").exists()


_TEAM = {"make": _make_team, "intact": _team_intact}

ROUTES: dict[str, Spec] = {
    "api/v1/pipeline/zones/": Spec(make=_make_zone, intact=_zone_intact),
    "api/v1/pipeline/zones/<uuid:zone_id>/": Spec(
        make=_make_zone, write_body={"name": "taken over"}, intact=_zone_intact
    ),
    "api/v1/pipeline/assets/": Spec(make=_make_asset, intact=_asset_intact),
    "api/v1/pipeline/assets/<uuid:asset_id>/": Spec(
        make=_make_asset, write_body={"name": "taken over"}, intact=_asset_intact
    ),
    "api/v1/pipeline/sensors/": Spec(make=_make_sensor, intact=_sensor_intact),
    "api/v1/pipeline/sensors/<uuid:sensor_id>/": Spec(
        make=_make_sensor, write_body={"unit": "bar"}, intact=_sensor_intact
    ),
    "api/v1/pipeline/devices/": Spec(make=_make_device, intact=_device_intact),
    "api/v1/pipeline/devices/<uuid:device_id>/": Spec(
        make=_make_device, write_body={"name": "taken over"}, intact=_device_intact
    ),
    "api/v1/pipeline/teams/": Spec(**_TEAM),
    "api/v1/pipeline/teams/<uuid:team_id>/": Spec(write_body={"name": "taken over"}, **_TEAM),
    "api/v1/pipeline/teams/<uuid:team_id>/members/": Spec(
        make=_make_team_member,
        write_body={"user": "00000000-0000-4000-8000-00000000000a", "role": "lead"},
        intact=_team_member_intact,
    ),
    "api/v1/pipeline/teams/<uuid:team_id>/members/<uuid:user_id>/": Spec(
        make=_make_team_member, intact=_team_member_intact
    ),
    "api/v1/pipeline/teams/<uuid:team_id>/position/": Spec(
        write_body={"latitude": 10.0, "longitude": 10.0}, **_TEAM
    ),
}
