"""Reads of the incident board (the staff page at /pipeline/incidents/): the unclosed
incidents of the zones the actor may see, newest first, each as the payload of the
``pipeline.incident.updated`` event so that the page renders server-side rows and
websocket updates from one shape."""

from __future__ import annotations

from typing import Any

from apps.core.types import Actor
from apps.pipeline.models import DispatchOffer, Incident, IncidentEvent
from apps.pipeline.selectors import incidents as incident_selectors
from apps.pipeline.selectors.network import zone_ids_visible

BOARD_VIEW_PERMISSION = "pipeline.view_incident"
HANDLE_PERMISSION = "pipeline.approve_incident_handling"
# A board is a screen, not an archive: older unclosed incidents are in the API's list.
BOARD_LIMIT = 200


def board_incident_list(*, actor: Actor, limit: int = BOARD_LIMIT) -> list[Incident]:
    """Unclosed incidents (resolved ones included) of the actor's zones, newest first, at
    most ``limit``."""
    return list(
        incident_selectors.incident_list(actor=actor).exclude(status=Incident.Status.CLOSED)[:limit]
    )


def board_incident_get(*, actor: Actor, incident_id: Any) -> Incident:
    """One incident of a zone the actor may see, closed ones included; ``NotFoundError``
    otherwise."""
    return incident_selectors.incident_get(actor=actor, incident_id=incident_id)


def board_incident_timeline(*, incident: Incident) -> list[IncidentEvent]:
    return list(incident_selectors.incident_timeline(incident=incident).select_related("actor"))


def board_incident_offers(*, incident: Incident) -> list[DispatchOffer]:
    return list(incident_selectors.incident_offers(incident=incident))


def board_zone_ids(*, actor: Actor) -> list[str] | None:
    """The zone ids the page may show (sorted), or None for every zone: the page drops
    events of other zones even if one reached it."""
    visible = zone_ids_visible(actor=actor)
    return None if visible is None else sorted(visible)


def board_row(incident: Incident) -> dict[str, Any]:
    """The incident as the ``pipeline.incident.updated`` payload carries it."""
    return incident_selectors.incident_summary(incident)
