"""The network: zones (a tree), assets with a place, sensors on assets, devices that send
readings, and field teams with skills and a position."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel, SoftDeleteModel

LATITUDE_RANGE = Q(latitude__gte=-90) & Q(latitude__lte=90)
LONGITUDE_RANGE = Q(longitude__gte=-180) & Q(longitude__lte=180)


class Zone(BaseModel):
    """A network (root) or a district metered area (DMA) under it; the unit of access
    (``zone`` row scopes) and of the water balance."""

    class Kind(models.TextChoices):
        NETWORK = "network"
        DISTRICT = "district"  # a district metered area
        PRESSURE_ZONE = "pressure_zone"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DISTRICT)
    # PROTECT: a zone with sub-zones cannot vanish from under them.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Loss above this share of the day's inflow raises a water-loss alarm.
    loss_alarm_pct = models.DecimalField(max_digits=5, decimal_places=2, default=20)

    class Meta:
        ordering = ["code"]
        permissions = [
            # Bypasses zone row scopes: sees and acts on every zone's records.
            ("access_all_zones", "Can see and act on every zone"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(loss_alarm_pct__gte=0) & Q(loss_alarm_pct__lte=100),
                name="pipeline_zone_loss_alarm_pct_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Asset(SoftDeleteModel):
    class Kind(models.TextChoices):
        PIPE_SEGMENT = "pipe_segment"
        VALVE = "valve"
        PUMP = "pump"
        METER = "meter"
        TANK = "tank"

    class Status(models.TextChoices):
        ACTIVE = "active"
        MAINTENANCE = "maintenance"
        RETIRED = "retired"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="assets")
    latitude = models.FloatField()
    longitude = models.FloatField()
    installed_on = models.DateField(null=True, blank=True)
    # Pipe diameter, material, pump rating ...: shown, never computed on.
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=LATITUDE_RANGE, name="pipeline_asset_latitude"),
            models.CheckConstraint(condition=LONGITUDE_RANGE, name="pipeline_asset_longitude"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Device(SoftDeleteModel):
    """A data logger or gateway that posts readings for the sensors wired to it."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="devices"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Sensor(SoftDeleteModel):
    class Kind(models.TextChoices):
        FLOW = "flow"
        PRESSURE = "pressure"
        LEVEL = "level"
        TEMPERATURE = "temperature"
        ACOUSTIC = "acoustic"

    class BalanceRole(models.TextChoices):
        """Where the sensor's flow counts in its zone's daily water balance."""

        NONE = "none"
        INFLOW = "inflow"
        OUTFLOW = "outflow"
        CONSUMPTION = "consumption"

    code = models.CharField(max_length=64, unique=True)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="sensors")
    # Denormalised from the asset (kept equal by the services): readings, rules and
    # scopes filter sensors by zone on every detection pass.
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="sensors")
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="sensors"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    unit = models.CharField(max_length=16)  # "m3/h", "bar", "m", "degC"
    # The physically possible range: a reading outside it is rejected at ingestion.
    valid_min = models.FloatField()
    valid_max = models.FloatField()
    # Calibration: true value = raw * factor + offset, as of calibrated_on.
    calibration_factor = models.FloatField(default=1.0)
    calibration_offset = models.FloatField(default=0.0)
    calibrated_on = models.DateField(null=True, blank=True)
    # A reference value the sensor should read under normal conditions (accuracy report).
    reference_value = models.FloatField(null=True, blank=True)
    expected_interval_seconds = models.PositiveIntegerField(default=300)
    balance_role = models.CharField(
        max_length=16, choices=BalanceRole.choices, default=BalanceRole.NONE
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_min__lt=models.F("valid_max")), name="pipeline_sensor_range"
            ),
            models.CheckConstraint(
                condition=Q(expected_interval_seconds__gt=0),
                name="pipeline_sensor_interval_positive",
            ),
            models.CheckConstraint(
                condition=~Q(calibration_factor=0), name="pipeline_sensor_factor_nonzero"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class FieldTeam(SoftDeleteModel):
    """A crew sent to faults. Dispatch ranks teams by distance from their last known
    position (or their base when none was reported)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    skills = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    base_latitude = models.FloatField()
    base_longitude = models.FloatField()
    last_latitude = models.FloatField(null=True, blank=True)
    last_longitude = models.FloatField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    is_available = models.BooleanField(default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TeamMember",
        through_fields=("team", "user"),
        related_name="field_teams",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_latitude__gte=-90) & Q(base_latitude__lte=90),
                name="pipeline_team_base_latitude",
            ),
            models.CheckConstraint(
                condition=Q(base_longitude__gte=-180) & Q(base_longitude__lte=180),
                name="pipeline_team_base_longitude",
            ),
            models.CheckConstraint(
                condition=Q(last_latitude__isnull=True)
                | (Q(last_latitude__gte=-90) & Q(last_latitude__lte=90)),
                name="pipeline_team_last_latitude",
            ),
            models.CheckConstraint(
                condition=Q(last_longitude__isnull=True)
                | (Q(last_longitude__gte=-180) & Q(last_longitude__lte=180)),
                name="pipeline_team_last_longitude",
            ),
            models.CheckConstraint(
                condition=Q(last_latitude__isnull=True, last_longitude__isnull=True)
                | Q(last_latitude__isnull=False, last_longitude__isnull=False),
                name="pipeline_team_last_position_pair",
            ),
        ]
        # The GiST index on the dispatch position (earthdistance) is created in SQL by
        # migration 0001: Django cannot declare an index on ll_to_earth(...).

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TeamMember(BaseModel):
    class Role(models.TextChoices):
        LEAD = "lead"
        MEMBER = "member"

    team = models.ForeignKey(FieldTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="pipeline_team_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id}"
