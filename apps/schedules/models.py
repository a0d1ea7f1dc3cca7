import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone as django_timezone

from apps.core.models import BaseModel


class Schedule(BaseModel):
    """A tenant's recurring task: a registered task, its params, a cron line and a zone.

    Its beat entry (a django-celery-beat PeriodicTask in the public schema, named
    ``tenant:<schema>:<id>``) is kept in step by apps.schedules.services only.
    """

    name = models.CharField(max_length=120)
    task = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True)
    cron = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64)
    is_enabled = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="schedules_schedule_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cron} {self.timezone})"


class ScheduleRun(models.Model):
    """One firing of a schedule: by beat, or by someone pressing "run now"."""

    class Source(models.TextChoices):
        BEAT = "beat"
        RUN_NOW = "run_now"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    source = models.CharField(max_length=16, choices=Source.choices)
    task = models.CharField(max_length=100)
    fired_at = models.DateTimeField(default=django_timezone.now, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The Celery id of the beat message: a redelivered message finds its run and stops.
    message_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # Set by tasks that report back (they take schedule_run_id), e.g. schedules.heartbeat.
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-fired_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.task} {self.source} {self.fired_at:%Y-%m-%d %H:%M}"
