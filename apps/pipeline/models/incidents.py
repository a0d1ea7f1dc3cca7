"""Incidents: faults worked by field teams, with a timeline, dispatch offers to the nearest
team, and escalation policies that raise unacknowledged incidents level by level."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel
from apps.pipeline.models.detection import Severity
from apps.pipeline.models.network import Asset, FieldTeam, Zone


class EscalationPolicy(BaseModel):
    """Levels that fire one after another while an incident of ``severity`` stays
    unacknowledged. ``then_policy`` continues with another policy's levels after the
    last one; a chain that comes back to itself is refused (``pipeline.escalation_loop``)."""

    name = models.CharField(max_length=120, unique=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    is_active = models.BooleanField(default=True)
    then_policy = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["severity", "name"]
        constraints = [
            # One active policy per severity: the one new incidents follow.
            models.UniqueConstraint(
                fields=["severity"],
                condition=Q(is_active=True),
                name="pipeline_policy_one_active_per_severity",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(BaseModel):
    """Level ``level`` fires ``delay_minutes`` after the previous one (after the incident
    opened, for level 1) and notifies its users and everyone holding its roles."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField()
    delay_minutes = models.PositiveIntegerField()
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    roles = models.ManyToManyField("accounts.Role", blank=True, related_name="+")

    class Meta:
        ordering = ["policy", "level"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="pipeline_level_once"),
            models.CheckConstraint(condition=Q(level__gte=1), name="pipeline_level_positive"),
            models.CheckConstraint(
                condition=Q(delay_minutes__gte=0), name="pipeline_level_delay_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} level {self.level}"


class Incident(BaseModel):
    class Status(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        ASSIGNED = "assigned"
        IN_PROGRESS = "in_progress"
        RESOLVED = "resolved"
        CLOSED = "closed"

    class Source(models.TextChoices):
        ALARM = "alarm"
        MANUAL = "manual"

    # "INC-000042", from a sequence per tenant schema.
    number = models.CharField(max_length=16, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(max_length=8, choices=Source.choices)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="incidents")
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    # Where the fault is: the asset's place, or where the reporter said.
    latitude = models.FloatField()
    longitude = models.FloatField()
    required_skill = models.CharField(max_length=32, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_team = models.ForeignKey(
        FieldTeam, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Escalation: the policy this incident follows, the last level reached and when the
    # next one is due (null once acknowledged or out of levels). The scan reads only
    # this index: status = open and next_escalation_at <= now.
    escalation_policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        # "approve_" permissions go to the built-in manager role (apps.accounts.roles).
        permissions = [
            ("approve_incident_handling", "Can acknowledge, dispatch, progress and resolve"),
            ("report_incident", "Can report an incident by hand"),
        ]
        indexes = [
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(next_escalation_at__isnull=False),
                name="pipeline_incident_esc_due",
            ),
            models.Index(fields=["status", "-opened_at"], name="pipeline_incident_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90) & Q(latitude__lte=90),
                name="pipeline_incident_latitude",
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180) & Q(longitude__lte=180),
                name="pipeline_incident_longitude",
            ),
            # A resolved or closed incident says how it was resolved.
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | ~Q(resolution=""),
                name="pipeline_incident_resolution_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class IncidentEvent(models.Model):
    """The incident's timeline: every state change, dispatch step, escalation and note."""

    class Kind(models.TextChoices):
        OPENED = "opened"
        STATUS_CHANGED = "status_changed"
        ALARM_LINKED = "alarm_linked"
        DISPATCH_OFFERED = "dispatch_offered"
        DISPATCH_ACCEPTED = "dispatch_accepted"
        DISPATCH_DECLINED = "dispatch_declined"
        DISPATCH_EXPIRED = "dispatch_expired"
        DISPATCH_UNAVAILABLE = "dispatch_unavailable"  # no team left to offer
        ESCALATED = "escalated"
        NOTE = "note"

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the timeline index (incident, at) leads with it. Every
    # escalation step writes a row here, so each index counts.
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["incident", "at", "id"]
        indexes = [models.Index(fields=["incident", "at"], name="pipeline_event_timeline")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind}"


class DispatchOffer(BaseModel):
    """An incident offered to one team; it accepts, declines or lets ``respond_by`` pass,
    and the next nearest team gets the next offer. One live offer per incident."""

    class Status(models.TextChoices):
        OFFERED = "offered"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        EXPIRED = "expired"
        CANCELLED = "cancelled"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="offers")
    team = models.ForeignKey(FieldTeam, on_delete=models.PROTECT, related_name="offers")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFERED)
    distance_km = models.FloatField()
    offered_at = models.DateTimeField(default=timezone.now)
    respond_by = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["incident", "offered_at"]
        permissions = [
            # Team members answer offers to their own team without it.
            ("approve_dispatch_response", "Can accept or decline an offer for any team"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(status__in=["offered", "accepted"]),
                name="pipeline_offer_one_live_per_incident",
            ),
            # A team is offered an incident once: a decline or expiry moves on for good.
            models.UniqueConstraint(fields=["incident", "team"], name="pipeline_offer_team_once"),
        ]
        indexes = [
            models.Index(
                fields=["respond_by"],
                condition=Q(status="offered"),
                name="pipeline_offer_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} -> {self.team_id} ({self.status})"


class IncidentEscalation(models.Model):
    """One escalation step taken: which level, when, and who was notified."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (incident, policy, level) leads with it.
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="escalations", db_index=False
    )
    policy = models.ForeignKey(
        EscalationPolicy, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.PositiveSmallIntegerField()
    escalated_at = models.DateTimeField(default=timezone.now)
    recipient_ids = models.JSONField(default=list)  # user ids notified

    class Meta:
        ordering = ["incident", "escalated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "policy", "level"], name="pipeline_escalation_step_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} level {self.level}"
