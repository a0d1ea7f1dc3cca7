import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.jobs.models import JobRun


class ReportRun(models.Model):
    """One requested report: its parameters, the job producing it and, once done, its file.

    ``file`` is a name in the tenant's default storage (``reports/<run id>/<file name>``,
    i.e. ``MEDIA_ROOT/<schema>/reports/...`` on disk). The row and its file are removed by
    ``reports.cleanup`` once ``expires_at`` has passed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, db_index=True)
    # Snapshots of the report's declaration, so a listing never depends on the code of
    # the day (a report may be renamed or removed after it ran).
    title = models.CharField(max_length=200)
    format = models.CharField(max_length=8)
    params = models.JSONField(default=dict, blank=True)
    job = models.OneToOneField(JobRun, on_delete=models.CASCADE, related_name="report_run")
    file = models.CharField(max_length=500, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        # Not "view_...": the built-in viewer and staff roles get every view_ permission.
        permissions = [("oversee_report_runs", "Can see every user's report runs")]

    def __str__(self) -> str:
        return f"{self.name} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def has_file(self) -> bool:
        return bool(self.file)
