"""Plain factories for pipeline rows, for every pipeline test (and the cross-tenant specs).

They write with the ORM in the current schema (enter a tenant first, e.g. the
``in_tenant_b`` fixture) and bypass the services: tests of the services call those
directly. Codes default to unique values, so factories can be called any number of times.
Sensors get their zone from their asset, as the services keep it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

# Somewhere plausible: the demo waterworks sit around here too.
BASE_LATITUDE = 52.37
BASE_LONGITUDE = 4.89


def unique_code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}".upper()


def zone_make(code: str | None = None, *, parent: Any = None, **fields: Any):
    """A zone; ``kind`` defaults to network for a root and district under a parent."""
    from apps.pipeline.models import Zone

    code = code or unique_code("Z")
    values = {
        "code": code,
        "name": f"Zone {code}",
        "parent": parent,
        "kind": Zone.Kind.DISTRICT if parent is not None else Zone.Kind.NETWORK,
    }
    values.update(fields)
    return Zone.objects.create(**values)


def asset_make(code: str | None = None, *, zone: Any, **fields: Any):
    from apps.pipeline.models import Asset

    code = code or unique_code("A")
    values = {
        "code": code,
        "name": f"Asset {code}",
        "kind": Asset.Kind.PIPE_SEGMENT,
        "zone": zone,
        "latitude": BASE_LATITUDE,
        "longitude": BASE_LONGITUDE,
    }
    values.update(fields)
    return Asset.objects.create(**values)


def device_make(code: str | None = None, *, asset: Any = None, **fields: Any):
    from apps.pipeline.models import Device

    code = code or unique_code("D")
    values = {"code": code, "name": f"Logger {code}", "asset": asset}
    values.update(fields)
    return Device.objects.create(**values)


def sensor_make(code: str | None = None, *, asset: Any, **fields: Any):
    """A flow sensor (m3/h, 0..1000) unless told otherwise; ``zone`` is the asset's."""
    from apps.pipeline.models import Sensor

    code = code or unique_code("S")
    values = {
        "code": code,
        "asset": asset,
        "zone_id": asset.zone_id,
        "kind": Sensor.Kind.FLOW,
        "unit": "m3/h",
        "valid_min": 0.0,
        "valid_max": 1000.0,
    }
    values.update(fields)
    return Sensor.objects.create(**values)


def team_make(
    code: str | None = None,
    *,
    members: Iterable[Any] = (),
    lead: Any = None,
    **fields: Any,
):
    """A field team based at BASE_LATITUDE/LONGITUDE with skill "pipes"; ``members`` and
    ``lead`` are users added to it."""
    from apps.pipeline.models import FieldTeam, TeamMember

    code = code or unique_code("T")
    values = {
        "code": code,
        "name": f"Team {code}",
        "skills": ["pipes"],
        "base_latitude": BASE_LATITUDE,
        "base_longitude": BASE_LONGITUDE,
    }
    values.update(fields)
    team = FieldTeam.objects.create(**values)
    if lead is not None:
        TeamMember.objects.create(team=team, user=lead, role=TeamMember.Role.LEAD)
    for user in members:
        TeamMember.objects.create(team=team, user=user, role=TeamMember.Role.MEMBER)
    return team


def user_make(
    username: str | None = None,
    *,
    roles: Iterable[str] = (),
    zones: Iterable[Any] = (),
    permissions: Iterable[str] = (),
):
    """A user of the current tenant with built-in ``roles`` (slugs), ``zone`` scope grants
    on ``zones`` (Zone rows or ids) and, when given, a private role holding
    ``permissions`` ("pipeline.change_asset", ...)."""
    from django.contrib.auth.models import Permission

    from apps.accounts.models import Role, ScopeGrant, User

    username = username or f"user-{uuid.uuid4().hex[:8]}"
    user = User.objects.create_user(
        username=username, email=f"{username}@example.test", password="x-secret-pass-9"
    )
    user.roles.set(Role.objects.filter(slug__in=list(roles)))
    wanted = list(permissions)
    if wanted:
        role = Role.objects.create(slug=f"r-{username}"[:50], name=f"Role of {username}")
        for permission in wanted:
            app_label, codename = permission.split(".")
            role.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        user.roles.add(role)
    for zone in zones:
        ScopeGrant.objects.create(
            user=user, scope_type="zone", scope_value=str(getattr(zone, "pk", zone))
        )
    return user


def zone_grant(user: Any, zone: Any) -> None:
    from apps.accounts.models import ScopeGrant

    ScopeGrant.objects.get_or_create(
        user=user, scope_type="zone", scope_value=str(getattr(zone, "pk", zone))
    )
