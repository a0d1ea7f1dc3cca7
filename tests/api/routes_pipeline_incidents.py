"""Cross-tenant specs for the incident routes of /api/v1/pipeline/ (merged into
tests.api.routes). Rows are made with the ORM in B's schema; each marker is a value any
representation of the row shows (an incident's title, a team's or policy's name)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from tests.api.routes import Spec


def _marker(kind: str) -> str:
    return f"xt-{kind}-{uuid.uuid4().hex[:8]}"


def _incident(marker: str):
    from apps.pipeline.models import Incident, Zone

    zone = Zone.objects.create(code=marker[-20:], name=marker)
    return Incident.objects.create(
        number=f"X-{uuid.uuid4().hex[:10]}",
        title=marker,
        severity="high",
        source="manual",
        zone=zone,
        latitude=52.0,
        longitude=5.0,
    )


def _make_incident() -> tuple[dict, str]:
    from apps.pipeline.models import IncidentEvent

    marker = _marker("incident")
    incident = _incident(marker)
    IncidentEvent.objects.create(incident=incident, kind="opened", message=marker)
    return {"incident_id": incident.pk}, marker


def _incident_intact(marker: str) -> bool:
    from apps.pipeline.models import DispatchOffer, Incident

    incident = Incident.objects.filter(title=marker, status="open", resolution="").first()
    return (
        incident is not None
        and incident.events.count() == 1
        and not DispatchOffer.objects.filter(incident=incident).exists()
    )


def _make_offer() -> tuple[dict, str]:
    from apps.pipeline.models import DispatchOffer, FieldTeam

    marker = _marker("offer")
    incident = _incident(marker)
    team = FieldTeam.objects.create(
        code=marker[-20:], name=marker, base_latitude=52.0, base_longitude=5.0
    )
    offer = DispatchOffer.objects.create(
        incident=incident,
        team=team,
        distance_km=1.0,
        respond_by=timezone.now() + timedelta(hours=1),
    )
    return {"offer_id": offer.pk}, marker


def _offer_intact(marker: str) -> bool:
    from apps.pipeline.models import DispatchOffer

    return DispatchOffer.objects.filter(
        team__name=marker, status="offered", incident__status="open"
    ).exists()


def _make_policy() -> tuple[dict, str]:
    from apps.pipeline.models import EscalationLevel, EscalationPolicy

    marker = _marker("policy")
    policy = EscalationPolicy.objects.create(name=marker, severity="low", is_active=False)
    EscalationLevel.objects.create(policy=policy, level=1, delay_minutes=5)
    return {"policy_id": policy.pk}, marker


def _policy_intact(marker: str) -> bool:
    from apps.pipeline.models import EscalationPolicy

    return EscalationPolicy.objects.filter(
        name=marker, severity="low", is_active=False, levels__delay_minutes=5
    ).exists()


_INCIDENT = {"make": _make_incident, "intact": _incident_intact}
_OFFER = {"make": _make_offer, "intact": _offer_intact}
_P = "api/v1/pipeline/"

ROUTES: dict[str, Spec] = {
    f"{_P}incidents/": Spec(**_INCIDENT),
    f"{_P}incidents/<uuid:incident_id>/": Spec(**_INCIDENT),
    f"{_P}incidents/<uuid:incident_id>/timeline/": Spec(**_INCIDENT),
    f"{_P}incidents/<uuid:incident_id>/notes/": Spec(
        write_body={"message": "taken over"}, **_INCIDENT
    ),
    f"{_P}incidents/<uuid:incident_id>/acknowledge/": Spec(**_INCIDENT),
    f"{_P}incidents/<uuid:incident_id>/start/": Spec(**_INCIDENT),
    f"{_P}incidents/<uuid:incident_id>/resolve/": Spec(
        write_body={"resolution": "taken over"}, **_INCIDENT
    ),
    f"{_P}incidents/<uuid:incident_id>/close/": Spec(**_INCIDENT),
    f"{_P}incidents/<uuid:incident_id>/dispatch/": Spec(**_INCIDENT),
    f"{_P}dispatch-offers/": Spec(**_OFFER),
    f"{_P}dispatch-offers/<uuid:offer_id>/accept/": Spec(**_OFFER),
    f"{_P}dispatch-offers/<uuid:offer_id>/decline/": Spec(
        write_body={"reason": "taken over"}, **_OFFER
    ),
    f"{_P}escalation-policies/": Spec(make=_make_policy, intact=_policy_intact),
    f"{_P}escalation-policies/<uuid:policy_id>/": Spec(
        make=_make_policy,
        write_body={"name": "taken over", "is_active": True},
        intact=_policy_intact,
    ),
    f"{_P}teams/nearest/": Spec(make=None),
}
