"""Reads of incidents, their timeline and dispatch offers, escalation policies, and the
nearest-team query dispatch ranks by.

Incidents follow the zone row scope (apps.pipeline.selectors.network): an incident of a
zone the caller may not see does not exist for them (404). Offers are also visible to
the members of the team they were made to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.pipeline.models import (
    DispatchOffer,
    EscalationLevel,
    EscalationPolicy,
    FieldTeam,
    Incident,
    IncidentEscalation,
    IncidentEvent,
    TeamMember,
)
from apps.pipeline.selectors.network import (
    zone_ids_visible,
    zone_ids_with_descendants,
    zone_scope_filter,
)

Status = Incident.Status
# Statuses of an incident still being worked.
UNRESOLVED = (Status.OPEN, Status.ACKNOWLEDGED, Status.ASSIGNED, Status.IN_PROGRESS)
# Statuses in which the incident may be (re)offered to a team.
DISPATCHABLE = (Status.OPEN, Status.ACKNOWLEDGED)


def _ref(obj: Any) -> dict[str, str] | None:
    if obj is None:
        return None
    return {"id": str(obj.pk), "code": obj.code, "name": obj.name}


def incident_summary(incident: Incident) -> dict[str, Any]:
    """The shape boards and realtime ``pipeline.incident.updated`` events carry."""
    return {
        "id": str(incident.pk),
        "number": incident.number,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "source": incident.source,
        "zone": _ref(incident.zone),
        "asset": _ref(incident.asset),
        "assigned_team": _ref(incident.assigned_team),
        "escalation_level": incident.escalation_level,
        "opened_at": incident.opened_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
    }


def _incidents() -> QuerySet[Incident]:
    return Incident.objects.select_related("zone", "asset", "assigned_team")


def incident_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Incident]:
    """Incidents of the zones ``actor`` may see, newest first. ``filters`` (all optional):
    ``status``, ``severity``, ``zone`` (an id: that zone and the zones under it),
    ``open_only`` (True: not resolved or closed)."""
    require_perm(actor, "pipeline.view_incident")
    queryset = zone_scope_filter(_incidents(), actor=actor)
    filters = filters or {}
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("severity"):
        queryset = queryset.filter(severity=filters["severity"])
    if filters.get("zone"):
        queryset = queryset.filter(zone_id__in=list(zone_ids_with_descendants([filters["zone"]])))
    if filters.get("open_only"):
        queryset = queryset.filter(status__in=UNRESOLVED)
    return queryset.order_by("-opened_at", "-id")


def incident_get(*, actor: Actor, incident_id: object) -> Incident:
    incident = incident_list(actor=actor).filter(pk=incident_id).first()
    if incident is None:
        raise NotFoundError()
    return incident


def incident_timeline(*, incident: Incident) -> QuerySet[IncidentEvent]:
    return IncidentEvent.objects.filter(incident=incident).order_by("at", "id")


def incident_escalations(*, incident: Incident) -> QuerySet[IncidentEscalation]:
    return IncidentEscalation.objects.filter(incident=incident).order_by("escalated_at", "id")


def incident_offers(*, incident: Incident) -> QuerySet[DispatchOffer]:
    return (
        DispatchOffer.objects.filter(incident=incident)
        .select_related("team")
        .order_by("offered_at", "id")
    )


# --- dispatch ------------------------------------------------------------------------------

# The expression the GiST index pipeline_team_position_gist (migration 0002) is built on:
# ordering by ``<expression> <-> ll_to_earth(lat, lon)`` lets PostgreSQL walk the index
# nearest first (a KNN scan) instead of computing every team's distance and sorting.
TEAM_POSITION = (
    "ll_to_earth(COALESCE(t.last_latitude, t.base_latitude),"
    " COALESCE(t.last_longitude, t.base_longitude))"
)


def team_nearest_sql(*, skill: bool, exclude: bool) -> str:
    conditions = ["t.deleted_at IS NULL", "t.is_available"]
    if skill:
        conditions.append("%(skill)s = ANY(t.skills)")
    if exclude:
        conditions.append("NOT (t.id = ANY(%(exclude)s::uuid[]))")
    return (
        f"SELECT t.*, earth_distance({TEAM_POSITION}, ll_to_earth(%(lat)s, %(lon)s)) / 1000.0"  # noqa: S608
        f" AS distance_km FROM {FieldTeam._meta.db_table} t WHERE {' AND '.join(conditions)}"
        f" ORDER BY {TEAM_POSITION} <-> ll_to_earth(%(lat)s, %(lon)s) LIMIT %(limit)s"
    )


def team_nearest(
    *,
    latitude: float,
    longitude: float,
    skill: str | None = None,
    limit: int = 5,
    exclude_team_ids: Iterable[object] = (),
) -> list[FieldTeam]:
    """Available, not deleted teams (with ``skill`` when given), nearest first, by their
    last known position or else their base; each carries ``distance_km`` (great-circle
    on the earthdistance sphere). One query, served by the GiST index."""
    exclude = [str(team_id) for team_id in exclude_team_ids]
    sql = team_nearest_sql(skill=bool(skill), exclude=bool(exclude))
    params = {"lat": latitude, "lon": longitude, "skill": skill, "exclude": exclude, "limit": limit}
    return list(FieldTeam.objects.raw(sql, params))


def team_list_for_user(*, user: Any) -> set[str]:
    """Ids of the teams ``user`` belongs to."""
    return {
        str(team_id)
        for team_id in TeamMember.objects.filter(user=user).values_list("team_id", flat=True)
    }


def offer_get(*, actor: Actor, offer_id: object) -> DispatchOffer:
    """An offer the caller may see: of an incident of a visible zone, or made to a team
    the caller belongs to. Anything else is a 404."""
    offer = DispatchOffer.objects.select_related("incident", "team").filter(pk=offer_id).first()
    if offer is None:
        raise NotFoundError()
    visible = zone_ids_visible(actor=actor)
    if (
        visible is not None
        and str(offer.incident.zone_id) not in visible
        and str(offer.team_id) not in team_list_for_user(user=actor.user)
    ):
        raise NotFoundError()
    return offer


def offer_list(
    *, actor: Actor, filters: Mapping[str, Any] | None = None
) -> QuerySet[DispatchOffer]:
    """Offers of visible incidents and offers to the caller's own teams; ``filters``:
    ``status``, ``mine`` (True: only offers to the caller's teams)."""
    filters = filters or {}
    own_teams = TeamMember.objects.filter(user=actor.user).values("team_id")
    queryset = DispatchOffer.objects.select_related("incident", "team")
    visible = zone_ids_visible(actor=actor)
    if filters.get("mine"):
        queryset = queryset.filter(team_id__in=own_teams)
    elif visible is not None:
        queryset = queryset.filter(
            Q(incident__zone_id__in=list(visible)) | Q(team_id__in=own_teams)
        )
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    return queryset.order_by("-offered_at", "-id")


# --- escalation policies -------------------------------------------------------------------


def _policies() -> QuerySet[EscalationPolicy]:
    levels = EscalationLevel.objects.order_by("level").prefetch_related("users", "roles")
    return EscalationPolicy.objects.select_related("then_policy").prefetch_related(
        Prefetch("levels", queryset=levels)
    )


def escalation_policy_list(*, actor: Actor) -> QuerySet[EscalationPolicy]:
    require_perm(actor, "pipeline.view_escalationpolicy")
    return _policies().order_by("severity", "name")


def escalation_policy_get(*, actor: Actor, policy_id: object) -> EscalationPolicy:
    policy = escalation_policy_list(actor=actor).filter(pk=policy_id).first()
    if policy is None:
        raise NotFoundError()
    return policy


def escalation_policy_active(*, severity: str) -> EscalationPolicy | None:
    """The policy new incidents of ``severity`` follow."""
    return EscalationPolicy.objects.filter(severity=severity, is_active=True).first()
