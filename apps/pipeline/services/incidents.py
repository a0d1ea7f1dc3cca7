"""Writes for incidents: opening (by hand or from an alarm), the state machine, dispatch to
the nearest available team, escalation policies and the escalation scan.

States (one table, TRANSITIONS): open -> acknowledged -> assigned -> in_progress ->
resolved -> closed. An accepted dispatch offer assigns an open or acknowledged incident;
work may start on an acknowledged incident without an offer. Resolving needs a
resolution (400 on ``resolution`` without one); closing needs a resolved incident. Any
other move is a 409 ``pipeline.invalid_transition`` and changes nothing. Each transition
locks the incident row first, so two concurrent transitions cannot both apply.

Every change writes a timeline row (IncidentEvent) and publishes
``pipeline.incident.updated`` (payload: ``incident_summary``) to the zone's audience
after commit.

Dispatch offers the incident to the nearest available team with the required skill that
has not been offered it yet; a decline or an offer left past ``respond_by`` moves on to
the next nearest, and when no team is left a ``dispatch_unavailable`` event says so. A
team that accepts stays available for other incidents: whether a crew can take more work
is the crew's call (it sets ``is_available`` itself).

Escalation: an open incident follows the active policy of its severity; the scan raises
every due, unacknowledged incident one level in a constant number of queries however
many are due, and notifications go out from a task afterwards.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.accounts.selectors import require_perm
from apps.core.errors import PermissionDeniedError
from apps.core.tenancy import current_schema
from apps.core.types import Actor
from apps.jobs.dispatch import enqueue
from apps.pipeline.errors import (
    EscalationLoopError,
    InvalidTransitionError,
    OfferNotOpenError,
    PolicyNameTakenError,
    PolicySeverityTakenError,
)
from apps.pipeline.models import (
    LEAK_KINDS,
    Alarm,
    Asset,
    DispatchOffer,
    EscalationLevel,
    EscalationPolicy,
    FieldTeam,
    Incident,
    IncidentEscalation,
    IncidentEvent,
    Severity,
    TeamMember,
    Zone,
)
from apps.pipeline.selectors import incidents as selectors
from apps.pipeline.selectors.network import (
    zone_audience_user_ids,
    zone_ids_with_descendants,
    zone_visible_to,
)
from apps.pipeline.services.network import skill_normalize
from apps.realtime.publish import publish_event

logger = logging.getLogger("tenantry.pipeline")

Status = Incident.Status
Kind = IncidentEvent.Kind
OfferStatus = DispatchOffer.Status

HANDLING_PERMISSION = "pipeline.approve_incident_handling"
REPORT_PERMISSION = "pipeline.report_incident"
DISPATCH_RESPONSE_PERMISSION = "pipeline.approve_dispatch_response"
UPDATED_EVENT = "pipeline.incident.updated"
NOTIFY_CHANNELS = ("in_app", "email")
# How long a team has to answer an offer; settings.PIPELINE_DISPATCH_RESPONSE_MINUTES
# overrides it, and incident_dispatch takes its own.
DEFAULT_RESPONSE_MINUTES = 10

# The one table of allowed moves: from -> the statuses it may go to.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.ACKNOWLEDGED, Status.ASSIGNED}),
    Status.ACKNOWLEDGED: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.ASSIGNED: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def transition_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def response_minutes() -> int:
    return int(getattr(settings, "PIPELINE_DISPATCH_RESPONSE_MINUTES", DEFAULT_RESPONSE_MINUTES))


# --- helpers -------------------------------------------------------------------------------


def _user(actor: Actor | None) -> Any:
    return actor.user if actor is not None else None


def _stamp(instance: Any, actor: Actor | None, *, created: bool) -> None:
    if created:
        instance.created_by = _user(actor)
    instance.updated_by = _user(actor)


def _event(
    incident: Incident,
    kind: str,
    /,
    *,
    actor: Actor | None = None,
    message: str = "",
    at: datetime | None = None,
    **data: Any,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        at=at or timezone.now(),
        actor=_user(actor),
        message=message[:300],
        data=data,
    )


def _publish(incident: Incident) -> None:
    """``pipeline.incident.updated`` to everyone who may see the incident's zone, after
    commit (a rolled-back change tells nobody)."""
    incident = selectors._incidents().get(pk=incident.pk)  # noqa: SLF001 - same sub-domain
    publish_event(
        event_type=UPDATED_EVENT,
        payload=selectors.incident_summary(incident),
        user_ids=[str(user_id) for user_id in zone_audience_user_ids(zone_id=incident.zone_id)],
    )


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update(of=("self",)).get(pk=incident.pk)


def _refuse(incident: Incident, target: str) -> InvalidTransitionError:
    return InvalidTransitionError(
        incident_id=str(incident.pk), status=incident.status, target=target
    )


def _move(incident: Incident, target: str, *, actor: Actor | None, at: datetime) -> None:
    """Apply ``target`` to a locked incident (checked against TRANSITIONS) and record it."""
    if not transition_allowed(incident.status, target):
        raise _refuse(incident, target)
    previous = incident.status
    incident.status = target
    if target != Status.OPEN:
        # Escalation follows unacknowledged incidents only.
        incident.next_escalation_at = None
    if target not in selectors.DISPATCHABLE:
        # Work started or finished without the offered team: its offer is withdrawn.
        DispatchOffer.objects.filter(incident=incident, status=OfferStatus.OFFERED).update(
            status=OfferStatus.CANCELLED, responded_at=at, updated_at=at
        )
    _stamp(incident, actor, created=False)
    incident.save()
    _event(
        incident,
        Kind.STATUS_CHANGED,
        actor=actor,
        at=at,
        message=f"{previous} -> {target}",
        previous=previous,
        status=target,
    )


def _zone_lock(zone_id: object) -> None:
    """Serialise openings from alarms in one zone (the leak merge reads, then writes)."""
    digest = hashlib.blake2b(
        f"pipeline-incident-zone:{current_schema()}:{zone_id}".encode(), digest_size=8
    ).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


def _tasks():
    # Imported when needed: the tasks module imports this one.
    from apps.pipeline.tasks import incidents

    return incidents


def _next_number() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('pipeline_incident_number_seq')")
        (value,) = cursor.fetchone()
    return f"INC-{value:06d}"


# --- opening -------------------------------------------------------------------------------


def _open(
    incident: Incident, *, actor: Actor | None, dispatch: bool = True, alarm: Alarm | None = None
) -> Incident:
    """Number, escalation policy, OPENED event, first dispatch offer, publish."""
    now = timezone.now()
    incident.number = _next_number()
    incident.status = Status.OPEN
    incident.opened_at = now
    policy = selectors.escalation_policy_active(severity=incident.severity)
    if policy is not None:
        incident.escalation_policy = policy
        incident.escalation_level = 0
        first = EscalationLevel.objects.filter(policy=policy, level=1).first()
        if first is not None:
            incident.next_escalation_at = now + timedelta(minutes=first.delay_minutes)
    _stamp(incident, actor, created=True)
    incident.save(force_insert=True)
    _event(
        incident,
        Kind.OPENED,
        actor=actor,
        at=now,
        message=incident.title,
        source=incident.source,
        severity=incident.severity,
        escalation_policy=str(policy.pk) if policy else None,
    )
    if alarm is not None:
        Alarm.objects.filter(pk=alarm.pk).update(incident=incident)
        alarm.incident = incident
        _event(
            incident,
            Kind.ALARM_LINKED,
            at=now,
            message=alarm.message,
            alarm=str(alarm.pk),
            kind=alarm.kind,
            severity=alarm.severity,
        )
    if dispatch:
        _offer_next(incident_ids=[incident.pk], actor=actor, now=now)
    elif alarm is not None:
        _event(incident, Kind.NOTE, at=now, message="No place known for this zone: not dispatched.")
    _publish(incident)
    return incident


def _incident_fields_validate(data: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = ["A title is required."]
    elif len(title) > 200:
        errors["title"] = ["At most 200 characters."]
    if data.get("severity") not in Severity.values:
        errors["severity"] = [f"One of {', '.join(Severity.values)}."]
    skill = data.get("required_skill") or ""
    if skill:
        try:
            skill_normalize(skill)
        except ValueError as error:
            errors["required_skill"] = [str(error)]
    return errors


@transaction.atomic
def incident_report(*, actor: Actor, data: Mapping[str, Any]) -> Incident:
    """An incident reported by hand. ``data``: title, severity, zone (id, visible to the
    actor), and either asset (id, in that zone or below it: the incident is placed there)
    or latitude and longitude; optional description and required_skill. Opens, starts
    escalation and offers the incident to the nearest team."""
    require_perm(actor, REPORT_PERMISSION)
    errors = _incident_fields_validate(data)
    zone = None
    zone_id = data.get("zone")
    if zone_id is None:
        errors["zone"] = ["A zone is required."]
    else:
        zone = Zone.objects.filter(pk=zone_id).first()
        if zone is None or not zone_visible_to(actor=actor, zone_id=zone.pk):
            errors["zone"] = ["Unknown zone."]
            zone = None
    asset = None
    latitude, longitude = data.get("latitude"), data.get("longitude")
    if data.get("asset") is not None:
        asset = Asset.objects.filter(pk=data["asset"]).first()
        if asset is None or (
            zone is not None and str(asset.zone_id) not in zone_ids_with_descendants([zone.pk])
        ):
            errors["asset"] = ["Unknown asset, or not in this zone."]
        else:
            latitude, longitude = asset.latitude, asset.longitude
    else:
        if latitude is None:
            errors["latitude"] = ["Required without an asset."]
        elif not -90 <= latitude <= 90:
            errors["latitude"] = ["From -90 to 90."]
        if longitude is None:
            errors["longitude"] = ["Required without an asset."]
        elif not -180 <= longitude <= 180:
            errors["longitude"] = ["From -180 to 180."]
    if errors:
        raise ValidationError(errors)
    incident = Incident(
        title=data["title"].strip(),
        description=data.get("description") or "",
        severity=data["severity"],
        source=Incident.Source.MANUAL,
        zone=zone,
        asset=asset,
        latitude=latitude,
        longitude=longitude,
        # Matched against team skills, which are stored normalised ("Valve" -> "valve").
        required_skill=skill_normalize(data["required_skill"])
        if data.get("required_skill")
        else "",
        reported_by=actor.user,
    )
    return _open(incident, actor=actor)


def _alarm_place(alarm: Alarm) -> tuple[Asset | None, float | None, float | None]:
    """Where an alarm's fault is: the sensor's asset; else the zone's only asset; else the
    centroid of the zone's assets (sub-zones included); else unknown."""
    if alarm.sensor_id is not None:
        asset = alarm.sensor.asset
        return asset, asset.latitude, asset.longitude
    zone_ids = zone_ids_with_descendants([alarm.zone_id])
    assets = Asset.objects.filter(zone_id__in=zone_ids)
    first_two = list(assets.order_by("code")[:2])
    if len(first_two) == 1:
        asset = first_two[0]
        return asset, asset.latitude, asset.longitude
    centre = assets.aggregate(latitude=Avg("latitude"), longitude=Avg("longitude"))
    return None, centre["latitude"], centre["longitude"]


@transaction.atomic
def incident_open_from_alarm(*, alarm: Alarm) -> Incident:
    """Detection's call for a newly raised alarm that opens incidents. Returns the
    alarm's incident: its existing one, an unresolved alarm-sourced incident of the same
    zone when the alarm is a leak (the alarm is linked to it: one leak, one incident),
    or a new one (severity from the alarm, placed at the sensor's asset or the zone's
    assets). A new incident starts escalation and is offered to the nearest team; one
    whose place is unknown (a zone without assets) is opened at 0, 0 and not dispatched."""
    if alarm.incident_id is not None:
        return Incident.objects.get(pk=alarm.incident_id)
    _zone_lock(alarm.zone_id)
    if alarm.kind in LEAK_KINDS:
        existing = (
            Incident.objects.filter(
                zone_id=alarm.zone_id,
                source=Incident.Source.ALARM,
                status__in=selectors.UNRESOLVED,
            )
            .order_by("opened_at")
            .first()
        )
        if existing is not None:
            Alarm.objects.filter(pk=alarm.pk).update(incident=existing)
            alarm.incident = existing
            _event(
                existing,
                Kind.ALARM_LINKED,
                message=alarm.message,
                alarm=str(alarm.pk),
                kind=alarm.kind,
                severity=alarm.severity,
            )
            existing.save(update_fields=["updated_at"])
            _publish(existing)
            return existing
    asset, latitude, longitude = _alarm_place(alarm)
    placed = latitude is not None and longitude is not None
    zone = alarm.zone
    incident = Incident(
        title=f"{alarm.get_kind_display()} in {zone.name}"[:200],
        description=alarm.message,
        severity=alarm.severity,
        source=Incident.Source.ALARM,
        zone=zone,
        asset=asset,
        latitude=latitude if placed else 0.0,
        longitude=longitude if placed else 0.0,
        # The raising rule says which crews can fix what it finds (stored normalised).
        required_skill=alarm.rule.required_skill if alarm.rule_id else "",
    )
    return _open(incident, actor=None, dispatch=placed, alarm=alarm)


# --- the state machine ---------------------------------------------------------------------


def _require_handling(actor: Actor) -> None:
    require_perm(actor, HANDLING_PERMISSION)


def _require_handling_or_crew(actor: Actor, incident: Incident) -> None:
    """Handlers, or members of the team the incident is assigned to."""
    if actor.has_perm(HANDLING_PERMISSION):
        return
    if (
        incident.assigned_team_id is not None
        and TeamMember.objects.filter(team_id=incident.assigned_team_id, user=actor.user).exists()
    ):
        return
    raise PermissionDeniedError(permission=HANDLING_PERMISSION)


@transaction.atomic
def incident_acknowledge(*, actor: Actor, incident: Incident) -> Incident:
    """open -> acknowledged; escalation stops."""
    _require_handling(actor)
    incident = _locked(incident)
    now = timezone.now()
    if not transition_allowed(incident.status, Status.ACKNOWLEDGED):
        raise _refuse(incident, Status.ACKNOWLEDGED)
    incident.acknowledged_at = now
    incident.acknowledged_by = actor.user
    _move(incident, Status.ACKNOWLEDGED, actor=actor, at=now)
    _publish(incident)
    return incident


@transaction.atomic
def incident_start(*, actor: Actor, incident: Incident) -> Incident:
    """acknowledged or assigned -> in_progress (a handler or the assigned crew)."""
    _require_handling_or_crew(actor, incident)
    incident = _locked(incident)
    _move(incident, Status.IN_PROGRESS, actor=actor, at=timezone.now())
    _publish(incident)
    return incident


@transaction.atomic
def incident_resolve(*, actor: Actor, incident: Incident, resolution: str) -> Incident:
    """acknowledged, assigned or in_progress -> resolved, saying how (required)."""
    _require_handling_or_crew(actor, incident)
    if not isinstance(resolution, str) or not resolution.strip():
        raise ValidationError({"resolution": ["Say how the incident was resolved."]})
    incident = _locked(incident)
    now = timezone.now()
    if not transition_allowed(incident.status, Status.RESOLVED):
        raise _refuse(incident, Status.RESOLVED)
    incident.resolution = resolution.strip()
    incident.resolved_at = now
    _move(incident, Status.RESOLVED, actor=actor, at=now)
    _publish(incident)
    return incident


@transaction.atomic
def incident_close(*, actor: Actor, incident: Incident) -> Incident:
    """resolved -> closed. An unresolved incident cannot be closed (409)."""
    _require_handling(actor)
    incident = _locked(incident)
    now = timezone.now()
    if not transition_allowed(incident.status, Status.CLOSED):
        raise _refuse(incident, Status.CLOSED)
    incident.closed_at = now
    _move(incident, Status.CLOSED, actor=actor, at=now)
    _publish(incident)
    return incident


@transaction.atomic
def incident_note(*, actor: Actor, incident: Incident, message: str) -> IncidentEvent:
    _require_handling_or_crew(actor, incident)
    if not isinstance(message, str) or not message.strip():
        raise ValidationError({"message": ["A note needs text."]})
    return _event(incident, Kind.NOTE, actor=actor, message=message.strip())


# --- dispatch ------------------------------------------------------------------------------

_NEXT_TEAMS_SQL = f"""
SELECT i.id, t.id, t.distance_km
FROM {Incident._meta.db_table} i
LEFT JOIN LATERAL (
    SELECT t.id,
           earth_distance({selectors.TEAM_POSITION}, ll_to_earth(i.latitude, i.longitude))
               / 1000.0 AS distance_km
    FROM {FieldTeam._meta.db_table} t
    WHERE t.deleted_at IS NULL AND t.is_available
      AND (i.required_skill = '' OR i.required_skill = ANY(t.skills))
      AND NOT EXISTS (
          SELECT 1 FROM {DispatchOffer._meta.db_table} o
          WHERE o.incident_id = i.id AND o.team_id = t.id
      )
    ORDER BY {selectors.TEAM_POSITION} <-> ll_to_earth(i.latitude, i.longitude)
    LIMIT 1
) t ON true
WHERE i.id = ANY(%s::uuid[]) AND i.status = ANY(%s)
"""  # noqa: S608 - the models' own table names


def _offer_next(
    *,
    incident_ids: Iterable[object],
    actor: Actor | None,
    now: datetime,
    minutes: int | None = None,
) -> list[DispatchOffer]:
    """Offer each of the (locked or new) incidents to its nearest available team not yet
    offered it, in one query for all of them; incidents with no team left get a
    ``dispatch_unavailable`` event. Team members are notified by a task after commit."""
    ids = [str(incident_id) for incident_id in incident_ids]
    if not ids:
        return []
    respond_by = now + timedelta(minutes=response_minutes() if minutes is None else minutes)
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_TEAMS_SQL, [ids, list(selectors.DISPATCHABLE)])
        rows = cursor.fetchall()
    offers = [
        DispatchOffer(
            incident_id=incident_id,
            team_id=team_id,
            distance_km=distance_km,
            offered_at=now,
            respond_by=respond_by,
            created_by=_user(actor),
            updated_by=_user(actor),
        )
        for incident_id, team_id, distance_km in rows
        if team_id is not None
    ]
    DispatchOffer.objects.bulk_create(offers)
    events = [
        IncidentEvent(
            incident_id=offer.incident_id,
            kind=Kind.DISPATCH_OFFERED,
            at=now,
            actor=_user(actor),
            message=f"Offered to team {offer.team_id}",
            data={
                "offer": str(offer.pk),
                "team": str(offer.team_id),
                "distance_km": round(offer.distance_km, 3),
                "respond_by": respond_by.isoformat(),
            },
        )
        for offer in offers
    ]
    events += [
        IncidentEvent(
            incident_id=incident_id,
            kind=Kind.DISPATCH_UNAVAILABLE,
            at=now,
            actor=_user(actor),
            message="No available team left to offer the incident to.",
        )
        for incident_id, team_id, _ in rows
        if team_id is None
    ]
    IncidentEvent.objects.bulk_create(events)
    if offers:
        enqueue(_tasks().dispatch_offers_notify, offer_ids=[str(o.pk) for o in offers])
    return offers


@transaction.atomic
def incident_dispatch(
    *, actor: Actor | None, incident: Incident, minutes: int | None = None
) -> DispatchOffer | None:
    """(Re-)dispatch an open or acknowledged incident: a live offer is withdrawn
    (cancelled) and the next nearest team not yet offered gets one. Returns the new
    offer, or None when no team is left (a ``dispatch_unavailable`` event)."""
    if actor is not None:
        _require_handling(actor)
    incident = _locked(incident)
    if incident.status not in selectors.DISPATCHABLE:
        raise _refuse(incident, Status.ASSIGNED)
    now = timezone.now()
    live = DispatchOffer.objects.filter(incident=incident, status=OfferStatus.OFFERED)
    for offer in live:
        offer.status = OfferStatus.CANCELLED
        offer.responded_at = now
        offer.responded_by = _user(actor)
        offer.save()
        _event(
            incident,
            Kind.NOTE,
            actor=actor,
            at=now,
            message="Offer withdrawn for re-dispatch.",
            offer=str(offer.pk),
            team=str(offer.team_id),
        )
    offers = _offer_next(incident_ids=[incident.pk], actor=actor, now=now, minutes=minutes)
    incident.save(update_fields=["updated_at"])
    _publish(incident)
    return offers[0] if offers else None


def _require_responder(actor: Actor, offer: DispatchOffer) -> None:
    if actor.has_perm(DISPATCH_RESPONSE_PERMISSION):
        return
    if TeamMember.objects.filter(team_id=offer.team_id, user=actor.user).exists():
        return
    raise PermissionDeniedError(permission=DISPATCH_RESPONSE_PERMISSION)


def _open_offer_locked(offer: DispatchOffer, now: datetime) -> tuple[Incident, DispatchOffer]:
    incident = Incident.objects.select_for_update(of=("self",)).get(pk=offer.incident_id)
    offer = DispatchOffer.objects.select_for_update(of=("self",)).get(pk=offer.pk)
    if offer.status != OfferStatus.OFFERED or offer.respond_by <= now:
        raise OfferNotOpenError(offer_id=str(offer.pk), status=offer.status)
    return incident, offer


@transaction.atomic
def offer_accept(*, actor: Actor, offer: DispatchOffer) -> DispatchOffer:
    """The team takes the incident: it becomes ``assigned`` to the team (escalation
    stops). A member of the team, or ``approve_dispatch_response`` for any team."""
    _require_responder(actor, offer)
    now = timezone.now()
    incident, offer = _open_offer_locked(offer, now)
    if not transition_allowed(incident.status, Status.ASSIGNED):
        raise _refuse(incident, Status.ASSIGNED)
    offer.status = OfferStatus.ACCEPTED
    offer.responded_at = now
    offer.responded_by = actor.user
    _stamp(offer, actor, created=False)
    offer.save()
    _event(
        incident,
        Kind.DISPATCH_ACCEPTED,
        actor=actor,
        at=now,
        offer=str(offer.pk),
        team=str(offer.team_id),
    )
    incident.assigned_team_id = offer.team_id
    _move(incident, Status.ASSIGNED, actor=actor, at=now)
    _publish(incident)
    return offer


@transaction.atomic
def offer_decline(*, actor: Actor, offer: DispatchOffer, reason: str = "") -> DispatchOffer:
    """The team passes: the next nearest team not yet offered gets the incident."""
    _require_responder(actor, offer)
    now = timezone.now()
    incident, offer = _open_offer_locked(offer, now)
    offer.status = OfferStatus.DECLINED
    offer.responded_at = now
    offer.responded_by = actor.user
    _stamp(offer, actor, created=False)
    offer.save()
    _event(
        incident,
        Kind.DISPATCH_DECLINED,
        actor=actor,
        at=now,
        message=reason[:300],
        offer=str(offer.pk),
        team=str(offer.team_id),
    )
    _offer_next(incident_ids=[incident.pk], actor=None, now=now)
    incident.save(update_fields=["updated_at"])
    _publish(incident)
    return offer


@transaction.atomic
def dispatch_offers_expire(*, now: datetime | None = None) -> int:
    """Every offer past ``respond_by`` expires and its incident goes to the next nearest
    team, in a constant number of queries however many are due. Returns the count
    expired. Realtime updates go out from a task.

    Locks are taken incident first, then offer, like every other dispatch path (no
    deadlock with an accept); an incident a transition holds right now is left to the
    next tick."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH due AS (
                SELECT i.id FROM {Incident._meta.db_table} i
                 WHERE i.id IN (
                       SELECT incident_id FROM {DispatchOffer._meta.db_table}
                        WHERE status = %(offered)s AND respond_by <= %(now)s)
                   FOR UPDATE OF i SKIP LOCKED
            )
            UPDATE {DispatchOffer._meta.db_table} o
               SET status = %(expired)s, responded_at = %(now)s, updated_at = %(now)s
              FROM due
             WHERE o.incident_id = due.id AND o.status = %(offered)s AND o.respond_by <= %(now)s
            RETURNING o.id, o.incident_id, o.team_id
            """,  # noqa: S608 - the models' own table names
            {"offered": OfferStatus.OFFERED, "expired": OfferStatus.EXPIRED, "now": now},
        )
        expired = cursor.fetchall()
    if not expired:
        return 0
    IncidentEvent.objects.bulk_create(
        IncidentEvent(
            incident_id=incident_id,
            kind=Kind.DISPATCH_EXPIRED,
            at=now,
            message=f"Team {team_id} did not answer in time.",
            data={"offer": str(offer_id), "team": str(team_id)},
        )
        for offer_id, incident_id, team_id in expired
    )
    incident_ids = sorted({str(incident_id) for _, incident_id, _ in expired})
    _offer_next(incident_ids=incident_ids, actor=None, now=now)
    Incident.objects.filter(pk__in=incident_ids).update(updated_at=now)
    enqueue(_tasks().incidents_publish, incident_ids=incident_ids)
    return len(expired)


def dispatch_offers_notify(*, offer_ids: Iterable[str]) -> int:
    """Tell each offered team's members (notification ``pipeline.dispatch_offered``) and
    the zone's audience (realtime). Repeats send nothing twice (dedupe keys)."""
    from apps.notifications.services import notify

    sent = 0
    offers = DispatchOffer.objects.select_related("incident__zone", "team").filter(
        pk__in=list(offer_ids)
    )
    for offer in offers:
        incident = offer.incident
        members = list(User.objects.filter(team_memberships__team_id=offer.team_id, is_active=True))
        if members:
            notify(
                event="pipeline.dispatch_offered",
                recipients=members,
                context={
                    "number": incident.number,
                    "title": incident.title,
                    "severity": incident.severity,
                    "zone": incident.zone.name,
                    "team": offer.team.name,
                    "distance_km": round(offer.distance_km, 1),
                    "respond_by": offer.respond_by.isoformat(),
                    "offer_id": str(offer.pk),
                    "incident_id": str(incident.pk),
                },
                channels=NOTIFY_CHANNELS,
                dedupe_key=f"pipeline.dispatch_offered:{offer.pk}",
            )
            sent += 1
    return sent


def incidents_publish(*, incident_ids: Iterable[str]) -> int:
    """Publish ``pipeline.incident.updated`` for each incident (after the bulk paths)."""
    count = 0
    audiences: dict[str, list[str]] = {}
    for incident in selectors._incidents().filter(pk__in=list(incident_ids)):  # noqa: SLF001
        zone_key = str(incident.zone_id)
        if zone_key not in audiences:
            audiences[zone_key] = [
                str(user_id) for user_id in zone_audience_user_ids(zone_id=incident.zone_id)
            ]
        publish_event(
            event_type=UPDATED_EVENT,
            payload=selectors.incident_summary(incident),
            user_ids=audiences[zone_key],
        )
        count += 1
    return count


# --- escalation policies -------------------------------------------------------------------

POLICY_FIELDS = ("name", "severity", "is_active")


def _levels_validate(levels: Any) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Levels 1..n in order, delays >= 0, known users and roles. Returns the cleaned
    levels (with users and roles resolved) and field errors."""
    errors: dict[str, list[str]] = {}
    if not isinstance(levels, list) or not levels:
        return [], {"levels": ["At least one level."]}
    cleaned: list[dict[str, Any]] = []
    user_ids: set[str] = set()
    role_slugs: set[str] = set()
    for index, level in enumerate(levels):
        if not isinstance(level, Mapping):
            errors[f"levels.{index}"] = ["Expected an object."]
            continue
        delay = level.get("delay_minutes")
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
            errors[f"levels.{index}.delay_minutes"] = ["A whole number of minutes, 0 or more."]
        elif delay > 525_600:
            errors[f"levels.{index}.delay_minutes"] = ["At most a year (525600 minutes)."]
        number = level.get("level", index + 1)
        if number != index + 1:
            errors[f"levels.{index}.level"] = [
                f"Levels go 1, 2, 3... in order: expected {index + 1}."
            ]
        users = [str(user_id) for user_id in level.get("user_ids") or []]
        roles = [str(slug) for slug in level.get("role_slugs") or []]
        if not users and not roles:
            errors[f"levels.{index}.user_ids"] = ["Name at least one user or role to notify."]
        user_ids.update(users)
        role_slugs.update(roles)
        cleaned.append({"level": index + 1, "delay_minutes": delay, "users": users, "roles": roles})
    known_users = (
        {
            str(pk): pk
            for pk in User.objects.filter(pk__in=list(user_ids)).values_list("pk", flat=True)
        }
        if user_ids
        else {}
    )
    known_roles = (
        dict(Role.objects.filter(slug__in=list(role_slugs)).values_list("slug", "pk"))
        if role_slugs
        else {}
    )
    for index, level in enumerate(cleaned):
        unknown_users = [user_id for user_id in level["users"] if user_id not in known_users]
        unknown_roles = [slug for slug in level["roles"] if slug not in known_roles]
        if unknown_users:
            errors[f"levels.{index}.user_ids"] = [f"Unknown users: {', '.join(unknown_users)}."]
        if unknown_roles:
            errors[f"levels.{index}.role_slugs"] = [f"Unknown roles: {', '.join(unknown_roles)}."]
        level["users"] = [
            known_users[user_id] for user_id in level["users"] if user_id in known_users
        ]
        level["roles"] = [known_roles[slug] for slug in level["roles"] if slug in known_roles]
    return cleaned, errors


def _chain_loops(policy: EscalationPolicy, then_policy: EscalationPolicy | None) -> bool:
    """Whether continuing ``policy`` with ``then_policy`` comes back to ``policy``."""
    seen: set[str] = {str(policy.pk)}
    current = then_policy
    while current is not None:
        if str(current.pk) in seen:
            return True
        seen.add(str(current.pk))
        current = (
            EscalationPolicy.objects.filter(pk=current.then_policy_id).first()
            if current.then_policy_id
            else None
        )
    return False


def _policy_apply(
    *, actor: Actor, policy: EscalationPolicy, data: Mapping[str, Any], created: bool
) -> EscalationPolicy:
    errors: dict[str, list[str]] = {}
    for field in POLICY_FIELDS:
        if field in data:
            setattr(policy, field, data[field])
    if not isinstance(policy.name, str) or not policy.name.strip() or len(policy.name) > 120:
        errors["name"] = ["A name of at most 120 characters."]
    if policy.severity not in Severity.values:
        errors["severity"] = [f"One of {', '.join(Severity.values)}."]
    then_policy = policy.then_policy
    if "then_policy" in data:
        then_policy = None
        if data["then_policy"] is not None:
            then_policy = EscalationPolicy.objects.filter(pk=data["then_policy"]).first()
            if then_policy is None:
                errors["then_policy"] = ["Unknown escalation policy."]
    levels = None
    if "levels" in data or created:
        levels, level_errors = _levels_validate(data.get("levels"))
        errors.update(level_errors)
    if errors:
        raise ValidationError(errors)
    if _chain_loops(policy, then_policy):
        raise EscalationLoopError(policy_id=str(policy.pk), then_policy=str(then_policy.pk))
    policy.then_policy = then_policy
    if EscalationPolicy.objects.filter(name=policy.name).exclude(pk=policy.pk).exists():
        raise PolicyNameTakenError(name=policy.name)
    if (
        policy.is_active
        and EscalationPolicy.objects.filter(severity=policy.severity, is_active=True)
        .exclude(pk=policy.pk)
        .exists()
    ):
        raise PolicySeverityTakenError(severity=policy.severity)
    _stamp(policy, actor, created=created)
    try:
        with transaction.atomic():
            policy.save(force_insert=created)
    except IntegrityError as error:
        raise PolicySeverityTakenError(severity=policy.severity) from error
    if levels is not None:
        EscalationLevel.objects.filter(policy=policy).delete()
        for level in levels:
            row = EscalationLevel.objects.create(
                policy=policy,
                level=level["level"],
                delay_minutes=level["delay_minutes"],
                created_by=_user(actor),
                updated_by=_user(actor),
            )
            row.users.set(level["users"])
            row.roles.set(level["roles"])
    return policy


@transaction.atomic
def escalation_policy_create(*, actor: Actor, data: Mapping[str, Any]) -> EscalationPolicy:
    """``data``: name, severity, is_active (default true), then_policy (id or null),
    levels ``[{"level", "delay_minutes", "user_ids", "role_slugs"}]``. Field errors are a
    400; a ``then_policy`` chain back to itself a 400 ``pipeline.escalation_loop``; a
    second active policy of a severity a 409. Nothing is stored on any error."""
    require_perm(actor, "pipeline.add_escalationpolicy")
    policy = EscalationPolicy(is_active=True)
    return _policy_apply(actor=actor, policy=policy, data=data, created=True)


@transaction.atomic
def escalation_policy_update(
    *, actor: Actor, policy: EscalationPolicy, data: Mapping[str, Any]
) -> EscalationPolicy:
    """Fields present in ``data`` change; ``levels``, when present, replace them all.
    Incidents already escalating keep their policy and continue with its new levels."""
    require_perm(actor, "pipeline.change_escalationpolicy")
    policy = EscalationPolicy.objects.select_for_update().get(pk=policy.pk)
    return _policy_apply(actor=actor, policy=policy, data=data, created=False)


@transaction.atomic
def escalation_policy_delete(*, actor: Actor, policy: EscalationPolicy) -> None:
    """Incidents following it stop escalating; policies continuing into it end there."""
    require_perm(actor, "pipeline.delete_escalationpolicy")
    Incident.objects.filter(escalation_policy=policy).update(next_escalation_at=None)
    policy.delete()


# --- the escalation scan -------------------------------------------------------------------

_LEVEL = EscalationLevel._meta.db_table
_POLICY = EscalationPolicy._meta.db_table
_INCIDENT = Incident._meta.db_table
_LEVEL_USERS = EscalationLevel.users.through._meta.db_table
_LEVEL_ROLES = EscalationLevel.roles.through._meta.db_table
_USER_ROLES = User.roles.through._meta.db_table
_USERS = User._meta.db_table
_ESCALATION = IncidentEscalation._meta.db_table
_EVENT = IncidentEvent._meta.db_table

# One statement for every due incident, in the database: find the level that fires for
# each due row and what comes after it (the next level of the same policy, else level 1
# of ``then_policy``, else nothing), move the incidents on, resolve the recipients once
# per fired level (its users and the active holders of its roles), and write the steps
# and the timeline events. The UPDATE re-checks status, due time and level on the row it
# writes: a transition that commits first (an acknowledgement) or a concurrent scan that
# moved the row already makes it skip that row instead of firing a level twice. An
# incident whose level no longer exists stops escalating.
_SCAN_SQL = f"""
WITH due AS (
    SELECT i.id, i.escalation_policy_id AS policy_id, i.escalation_level + 1 AS level
      FROM {_INCIDENT} i
     WHERE i.status = 'open' AND i.next_escalation_at <= %(now)s
),
step AS (
    SELECT due.id, due.policy_id, due.level, l.id AS level_id,
           nl.delay_minutes AS next_delay, p.then_policy_id, tl.delay_minutes AS then_delay
      FROM due
      LEFT JOIN {_LEVEL} l ON l.policy_id = due.policy_id AND l.level = due.level
      LEFT JOIN {_LEVEL} nl ON nl.policy_id = due.policy_id AND nl.level = due.level + 1
      LEFT JOIN {_POLICY} p ON p.id = due.policy_id
      LEFT JOIN {_LEVEL} tl ON tl.policy_id = p.then_policy_id AND tl.level = 1
),
moved AS (
    UPDATE {_INCIDENT} i SET
        escalation_level = CASE
            WHEN s.level_id IS NULL THEN i.escalation_level
            WHEN s.next_delay IS NULL AND s.then_delay IS NOT NULL THEN 0
            ELSE s.level END,
        escalation_policy_id = CASE
            WHEN s.level_id IS NOT NULL AND s.next_delay IS NULL AND s.then_delay IS NOT NULL
            THEN s.then_policy_id ELSE i.escalation_policy_id END,
        next_escalation_at = CASE
            WHEN s.level_id IS NULL THEN NULL
            WHEN s.next_delay IS NOT NULL
            THEN i.next_escalation_at + make_interval(mins => s.next_delay)
            WHEN s.then_delay IS NOT NULL
            THEN i.next_escalation_at + make_interval(mins => s.then_delay)
            ELSE NULL END,
        updated_at = %(now)s
      FROM step s
     WHERE i.id = s.id AND i.status = 'open' AND i.next_escalation_at <= %(now)s
       AND i.escalation_level = s.level - 1
       AND i.escalation_policy_id IS NOT DISTINCT FROM s.policy_id
    RETURNING i.id, s.policy_id, s.level, s.level_id
),
fired AS (SELECT * FROM moved WHERE level_id IS NOT NULL),
recipients AS (
    SELECT r.level_id, array_agg(DISTINCT r.user_id::text ORDER BY r.user_id::text) AS ids
      FROM (
        SELECT lu.escalationlevel_id AS level_id, lu.user_id
          FROM {_LEVEL_USERS} lu JOIN {_USERS} u ON u.id = lu.user_id AND u.is_active
         WHERE lu.escalationlevel_id IN (SELECT DISTINCT level_id FROM fired)
        UNION
        SELECT lr.escalationlevel_id, ur.user_id
          FROM {_LEVEL_ROLES} lr
          JOIN {_USER_ROLES} ur ON ur.role_id = lr.role_id
          JOIN {_USERS} u ON u.id = ur.user_id AND u.is_active
         WHERE lr.escalationlevel_id IN (SELECT DISTINCT level_id FROM fired)
      ) r
     GROUP BY r.level_id
),
stepped AS (
    SELECT f.id, f.policy_id, f.level, to_jsonb(COALESCE(r.ids, ARRAY[]::text[])) AS ids
      FROM fired f LEFT JOIN recipients r ON r.level_id = f.level_id
),
steps AS (
    INSERT INTO {_ESCALATION} (incident_id, policy_id, level, escalated_at, recipient_ids)
    SELECT id, policy_id, level, %(now)s, ids FROM stepped
    ON CONFLICT DO NOTHING
    RETURNING incident_id
),
events AS (
    INSERT INTO {_EVENT} (incident_id, kind, at, actor_id, message, data)
    SELECT id, 'escalated', %(now)s, NULL, 'Escalated to level ' || level,
           jsonb_build_object('policy', policy_id::text, 'level', level, 'recipients', ids)
      FROM stepped
    RETURNING incident_id
)
SELECT (SELECT count(*) FROM steps), (SELECT count(*) FROM moved)
"""  # noqa: S608 - the models' own table names


@transaction.atomic
def escalation_scan(*, now: datetime | None = None) -> int:
    """Raise every open incident whose next escalation is due by one level, recording
    each step (IncidentEscalation with its recipients, and an ``escalated`` event) and
    queueing one task that notifies the recipients. Two statements (the scan and the
    outbox row) however many incidents are due. Acknowledged (or further) incidents are
    never due. Returns the steps taken."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_SCAN_SQL, {"now": now})
        stepped, _moved = cursor.fetchone()
    if stepped:
        enqueue(_tasks().escalation_notify, escalated_at=now.isoformat())
    return stepped


def escalation_notify(*, escalated_at: datetime | str) -> int:
    """Notify the recipients of the escalation steps taken at ``escalated_at`` (one scan)
    with ``pipeline.incident_escalated``, and publish the incidents' new state. A
    redelivered task sends nothing twice (dedupe keys)."""
    from apps.notifications.services import notify

    if isinstance(escalated_at, str):
        escalated_at = datetime.fromisoformat(escalated_at)
    rows = list(IncidentEscalation.objects.filter(escalated_at=escalated_at))
    if not rows:
        return 0
    incidents = selectors._incidents().in_bulk({row.incident_id for row in rows})  # noqa: SLF001
    wanted = {user_id for row in rows for user_id in row.recipient_ids}
    users = {str(user.pk): user for user in User.objects.filter(pk__in=wanted)}
    sent = 0
    for row in rows:
        incident = incidents.get(row.incident_id)
        recipients = [users[user_id] for user_id in row.recipient_ids if user_id in users]
        if incident is None or not recipients:
            continue
        notify(
            event="pipeline.incident_escalated",
            recipients=recipients,
            context={
                "number": incident.number,
                "title": incident.title,
                "severity": incident.severity,
                "status": incident.status,
                "zone": incident.zone.name,
                "level": row.level,
                "opened_at": incident.opened_at.isoformat(),
                "incident_id": str(incident.pk),
            },
            channels=NOTIFY_CHANNELS,
            dedupe_key=f"pipeline.incident_escalated:{incident.pk}:{row.policy_id}:{row.level}",
        )
        sent += 1
    incidents_publish(incident_ids=[str(pk) for pk in incidents])
    return sent
