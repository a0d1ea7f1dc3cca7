"""People and places: departments (a tree), positions, work locations with geofences, and
employees."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel, SoftDeleteModel


class Department(BaseModel):
    name = models.CharField(max_length=120, unique=True)
    # PROTECT: a department with sub-departments cannot vanish from under them.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Position(BaseModel):
    title = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class WorkLocation(BaseModel):
    """A place employees check in at: a geofence of ``radius_m`` metres around a centre."""

    name = models.CharField(max_length=120, unique=True)
    address = models.CharField(max_length=300, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    radius_m = models.PositiveIntegerField()
    time_zone = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90) & Q(latitude__lte=90),
                name="hr_location_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180) & Q(longitude__lte=180),
                name="hr_location_longitude_range",
            ),
            models.CheckConstraint(condition=Q(radius_m__gt=0), name="hr_location_radius_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Employee(SoftDeleteModel):
    # Unique across deleted rows too: an employee number is never reused in a tenant.
    employee_number = models.CharField(max_length=32, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    # E.164 ("+14155550100"), normalised by apps.hr.phone; empty when unknown.
    phone = models.CharField(max_length=20, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="employees"
    )
    position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.PROTECT, related_name="employees"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    employment_start = models.DateField()
    employment_end = models.DateField(null=True, blank=True)
    work_time_zone = models.CharField(max_length=64, default="UTC")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        # No reverse accessor: User lives in public too, where hr_employee does not exist,
        # and auditlog reads every reverse one-to-one of a User it saves (a query there).
        related_name="+",
    )
    allowed_locations = models.ManyToManyField(WorkLocation, blank=True, related_name="employees")
    is_geofence_exempt = models.BooleanField(default=False)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(employment_end__isnull=True)
                | Q(employment_end__gte=models.F("employment_start")),
                name="hr_employee_end_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(manager=models.F("id")), name="hr_employee_not_own_manager"
            ),
        ]
        permissions = [
            # Deliberately not "view_...": the built-in staff and viewer roles receive
            # every view_* permission (apps.accounts.roles), and this one bypasses the
            # row scope, so only roles that get everything (tenant_admin) hold it.
            ("access_all_employees", "Can see every employee (HR admin)"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.employee_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        return not self.is_deleted and (self.employment_end is None or self.employment_end >= today)
