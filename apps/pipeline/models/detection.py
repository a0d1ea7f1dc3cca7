"""Detection: rules per sensor or zone, the alarms they raise (one active alarm per sensor
or zone and kind), and the daily water balance of each zone."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel
from apps.pipeline.models.network import Sensor, Zone


class Severity(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class AlarmKind(models.TextChoices):
    THRESHOLD_HIGH = "threshold_high"
    THRESHOLD_LOW = "threshold_low"
    RATE_OF_CHANGE = "rate_of_change"
    FLAT_LINE = "flat_line"  # a stuck sensor
    MISSING_DATA = "missing_data"
    PRESSURE_DROP = "pressure_drop"  # leak: pressure fell against its recent baseline
    FLOW_IMBALANCE = "flow_imbalance"  # leak: zone inflow exceeds outflow + consumption
    WATER_LOSS = "water_loss"  # the day's loss share above the zone's limit
    NIGHT_FLOW = "night_flow"  # minimum night flow above the zone's limit


SENSOR_KINDS = {
    AlarmKind.THRESHOLD_HIGH,
    AlarmKind.THRESHOLD_LOW,
    AlarmKind.RATE_OF_CHANGE,
    AlarmKind.FLAT_LINE,
    AlarmKind.MISSING_DATA,
    AlarmKind.PRESSURE_DROP,
}
ZONE_KINDS = {AlarmKind.FLOW_IMBALANCE, AlarmKind.WATER_LOSS, AlarmKind.NIGHT_FLOW}
LEAK_KINDS = {AlarmKind.PRESSURE_DROP, AlarmKind.FLOW_IMBALANCE, AlarmKind.NIGHT_FLOW}


class DetectionRule(BaseModel):
    """What to watch. A sensor rule names a sensor; a zone rule names a zone. ``threshold``
    means, by kind: the limit (threshold_*), the largest change per minute
    (rate_of_change), the smallest spread over the window (flat_line), unused
    (missing_data: the window is the allowed silence), the drop in percent of the
    baseline (pressure_drop), the imbalance in percent of inflow (flow_imbalance), the
    minimum night flow in m3/h (night_flow)."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=AlarmKind.choices)
    sensor = models.ForeignKey(
        Sensor, null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    threshold = models.FloatField(null=True, blank=True)
    window_minutes = models.PositiveIntegerField(default=15)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    # Whether an alarm of this rule opens an incident by itself.
    opens_incident = models.BooleanField(default=False)
    # The skill a team needs to be sent to this rule's incidents ("leak_repair"); empty:
    # the nearest available team, whatever its skills. Stored normalised like team skills.
    required_skill = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(sensor__isnull=False) & Q(zone__isnull=True))
                | (Q(sensor__isnull=True) & Q(zone__isnull=False)),
                name="pipeline_rule_sensor_xor_zone",
            ),
            models.CheckConstraint(
                condition=Q(window_minutes__gte=1) & Q(window_minutes__lte=10080),
                name="pipeline_rule_window_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Alarm(BaseModel):
    """A condition detection found. While active, a repeated detection of the same
    sensor (or zone) and kind updates this row instead of adding one: the two partial
    unique constraints below make that hold under concurrent passes too."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        CLEARED = "cleared"

    kind = models.CharField(max_length=16, choices=AlarmKind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    sensor = models.ForeignKey(
        Sensor, null=True, blank=True, on_delete=models.PROTECT, related_name="alarms"
    )
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="alarms")
    rule = models.ForeignKey(
        DetectionRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms"
    )
    message = models.CharField(max_length=300)
    value = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    first_detected_at = models.DateTimeField(default=timezone.now)
    last_detected_at = models.DateTimeField(default=timezone.now)
    detection_count = models.PositiveIntegerField(default=1)
    cleared_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(
        "pipeline.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alarms",
    )

    class Meta:
        ordering = ["-last_detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sensor", "kind"],
                condition=Q(status="active", sensor__isnull=False),
                name="pipeline_alarm_one_active_per_sensor",
            ),
            models.UniqueConstraint(
                fields=["zone", "kind"],
                condition=Q(status="active", sensor__isnull=True),
                name="pipeline_alarm_one_active_per_zone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"


class ZoneWaterBalance(BaseModel):
    """One zone's water balance for one local day: loss = inflow - outflow - consumption.
    Volumes in m3; ``coverage`` is the share of expected readings that arrived."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="balances")
    day = models.DateField()
    inflow_m3 = models.FloatField(default=0)
    outflow_m3 = models.FloatField(default=0)
    consumption_m3 = models.FloatField(default=0)
    loss_m3 = models.FloatField(default=0)
    loss_pct = models.FloatField(null=True, blank=True)  # null when there was no inflow
    min_night_flow_m3h = models.FloatField(null=True, blank=True)
    coverage = models.FloatField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "zone"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "day"], name="pipeline_balance_once")
        ]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.day}"
