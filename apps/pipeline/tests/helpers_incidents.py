"""Fixtures and helpers of the incident, dispatch and escalation tests (tenant B).

Teams are placed at known coordinates along a line of longitude from ORIGIN, so "the
nearest" is plain to see: one degree of latitude is about 111 km."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from apps.pipeline.tests.conftest import pipeline_actor

ORIGIN = (52.0, 5.0)


def team_at(code: str, km_north: float, **fields: Any):
    """A team ``km_north`` km north of ORIGIN (skill "pipes" unless told otherwise)."""
    from apps.pipeline.tests import factories as f

    fields.setdefault("base_latitude", ORIGIN[0] + km_north / 111.2)
    fields.setdefault("base_longitude", ORIGIN[1])
    return f.team_make(code, **fields)


def incident_make(zone: Any, *, actor: Any = None, dispatch: bool = False, **fields: Any):
    """An open incident at ORIGIN in ``zone``, opened through the service's opening path
    (number, policy, OPENED event); ``dispatch`` offers it to the nearest team too."""
    from apps.pipeline.models import Incident
    from apps.pipeline.services import incidents as services

    values = {
        "title": "Burst main",
        "severity": "high",
        "source": Incident.Source.MANUAL,
        "zone": zone,
        "latitude": ORIGIN[0],
        "longitude": ORIGIN[1],
    }
    values.update(fields)
    return services._open(Incident(**values), actor=actor, dispatch=dispatch)  # noqa: SLF001


def policy_make(severity: str = "high", *, levels: list[dict], **data: Any):
    """An escalation policy made through the service, as tenant B's admin."""
    from apps.pipeline.services import incidents as services

    return services.escalation_policy_create(
        actor=pipeline_actor("admin"),
        data={
            "name": f"Policy {severity} {len(levels)}",
            "severity": severity,
            **data,
            "levels": levels,
        },
    )


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def events_of(incident: Any) -> list[str]:
    from apps.pipeline.models import IncidentEvent

    return list(
        IncidentEvent.objects.filter(incident=incident)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )


@pytest.fixture
def admin_b(in_tenant_b):
    return pipeline_actor("admin")


@pytest.fixture
def published(monkeypatch):
    """Realtime events the services publish, as (event_type, payload, user_ids) tuples,
    captured at the publish call (delivery after commit is the realtime app's job)."""
    from apps.pipeline.services import incidents as services

    seen: list[tuple[str, dict, list]] = []

    def capture(*, event_type, payload, user_ids=(), roles=(), to_tenant=False):
        seen.append((event_type, payload, list(user_ids)))

    monkeypatch.setattr(services, "publish_event", capture)
    return seen
