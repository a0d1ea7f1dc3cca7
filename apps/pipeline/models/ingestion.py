"""Ingestion: per-device API keys, idempotent batches and the time-partitioned readings."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel
from apps.pipeline.models.network import Device, Sensor


class DeviceKey(BaseModel):
    """An API key of one device. Only a SHA-256 of the secret is stored: keys are 256-bit
    random, so a slow password hash would add cost without adding safety. ``prefix`` is the
    public part the key is looked up by. Rotation issues a new key and lets the old one
    live until ``expires_at``; revocation ends it at once."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.prefix}"

    def is_usable(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


class IngestBatch(BaseModel):
    """One batch a device posted. Its ``batch_id`` is the device's idempotency key: a
    repeat is answered with the stored report and stores nothing."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="batches")
    batch_id = models.CharField(max_length=100)
    # SHA-256 of the batch's readings: the same id with other readings is refused.
    content_hash = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    accepted_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    # The per-reading rejections: [{"index": 3, "code": "...", "message": "..."}, ...]
    rejections = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["device", "batch_id"], name="pipeline_batch_once")
        ]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.batch_id}"


class Reading(models.Model):
    """One value of one sensor at one instant, in a table partitioned by month of
    ``recorded_at`` with a BRIN index on it (created in SQL by migration 0001; Django
    does not manage partitioned tables). ``value`` is the raw value as sent; calibration
    is applied when it is read. No foreign key: the ingestion path checks sensors itself,
    and a per-row key check would halve COPY's speed."""

    pk = models.CompositePrimaryKey("sensor_id", "recorded_at")
    sensor = models.ForeignKey(
        Sensor, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    recorded_at = models.DateTimeField()
    value = models.FloatField()
    batch = models.ForeignKey(
        IngestBatch,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        managed = False
        db_table = "pipeline_reading"

    def __str__(self) -> str:
        return f"{self.sensor_id}@{self.recorded_at}={self.value}"


class ReadingPartition(models.Model):
    """A month of readings that has its partition; kept so the ingestion path need not
    ask the catalog. Rows are written by ``reading_partitions_ensure`` only."""

    month = models.DateField(primary_key=True)  # first day of the month
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["month"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__day=1), name="pipeline_partition_first_of_month"
            )
        ]

    def __str__(self) -> str:
        return self.month.isoformat()
