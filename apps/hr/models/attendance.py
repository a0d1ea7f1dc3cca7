"""Shifts and attendance: the tenant's HR policy, shift templates, the roster (assignments
of templates to employees on weekdays), punches and their corrections.

Instants are stored in UTC; ``work_date`` is the local date (in the employee's work time
zone) on which the shift the punch belongs to starts. The minute figures of a closed
record are computed once by ``apps.hr.timecalc`` and stored, so payroll can aggregate
them in SQL.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from apps.core.models import BaseModel
from apps.hr.models.people import Employee, WorkLocation


def default_weekend() -> list[int]:
    return [5, 6]


class HrPolicy(BaseModel):
    """The tenant's HR settings; one row per tenant schema (``singleton`` is always 1)."""

    class OutsideGeofence(models.TextChoices):
        REFUSE = "refuse", "Refuse the punch"
        NEEDS_APPROVAL = "needs_approval", "Accept it for a manager's approval"

    singleton = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    outside_geofence = models.CharField(
        max_length=20, choices=OutsideGeofence.choices, default=OutsideGeofence.REFUSE
    )
    # A punch whose reported accuracy is worse than this is treated as outside every fence.
    max_accuracy_m = models.PositiveIntegerField(default=200)
    # Public holidays: ISO 3166-1 alpha-2 country and optional subdivision (`holidays`).
    holiday_country = models.CharField(max_length=2, default="GB")
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    # Monday=0 .. Sunday=6, as date.weekday().
    weekend_days = ArrayField(
        models.PositiveSmallIntegerField(), default=default_weekend, blank=True
    )
    # Payroll: hours in a standard working day (hourly rate) and the overtime multiplier.
    standard_day_hours = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal(8))
    overtime_multiplier = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1.50")
    )
    currency = models.CharField(max_length=3, default="GBP")

    class Meta:
        verbose_name_plural = "HR policy"
        constraints = [
            models.CheckConstraint(condition=Q(singleton=1), name="hr_policy_singleton"),
            models.CheckConstraint(
                condition=Q(standard_day_hours__gt=0), name="hr_policy_day_hours_positive"
            ),
            models.CheckConstraint(
                condition=Q(overtime_multiplier__gte=1), name="hr_policy_overtime_at_least_1"
            ),
        ]

    def __str__(self) -> str:
        return "HR policy"


class ShiftTemplate(BaseModel):
    """Local wall-clock start and end; ``end <= start`` means the shift crosses midnight."""

    name = models.CharField(max_length=120, unique=True)
    start_time = models.TimeField()
    end_time = models.TimeField()
    break_minutes = models.PositiveSmallIntegerField(default=0)
    grace_minutes = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(break_minutes__lt=24 * 60), name="hr_shift_break_below_a_day"
            ),
            models.CheckConstraint(
                condition=Q(grace_minutes__lt=24 * 60), name="hr_shift_grace_below_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_time:%H:%M}-{self.end_time:%H:%M})"

    @property
    def crosses_midnight(self) -> bool:
        return self.end_time <= self.start_time


class ShiftAssignment(BaseModel):
    """The roster: ``employee`` works ``shift`` on ``weekdays`` from ``valid_from`` to
    ``valid_to`` (inclusive; open-ended when null). Where two assignments cover the same
    day, the one with the later ``valid_from`` wins."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="shifts")
    shift = models.ForeignKey(ShiftTemplate, on_delete=models.PROTECT, related_name="assignments")
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["employee", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="hr_assignment_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(weekdays__contained_by=[0, 1, 2, 3, 4, 5, 6]),
                name="hr_assignment_weekdays_range",
            ),
            models.UniqueConstraint(
                fields=["employee", "valid_from"], name="hr_assignment_one_per_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee} on {self.shift} from {self.valid_from}"


class AttendanceRecord(BaseModel):
    """One shift's punches: a check-in and, once the employee leaves, a check-out.

    ``punched_in_at`` / ``punched_out_at`` are the punches as made and never change;
    ``check_in_at`` / ``check_out_at`` are the figures in force, which a manager's
    correction (AttendanceCorrection) may change.
    """

    class State(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"
        AUTO_CLOSED = "auto_closed"

    class Approval(models.TextChoices):
        NOT_REQUIRED = "not_required"
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="attendance")
    work_date = models.DateField()
    shift = models.ForeignKey(
        ShiftTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scheduled_start_at = models.DateTimeField(null=True, blank=True)
    scheduled_end_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    approval = models.CharField(
        max_length=12, choices=Approval.choices, default=Approval.NOT_REQUIRED
    )

    check_in_at = models.DateTimeField()
    punched_in_at = models.DateTimeField(editable=False)
    check_in_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    check_in_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    check_in_accuracy_m = models.DecimalField(max_digits=8, decimal_places=1, null=True)
    check_in_location = models.ForeignKey(
        WorkLocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    check_out_at = models.DateTimeField(null=True, blank=True)
    punched_out_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_out_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    check_out_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    check_out_accuracy_m = models.DecimalField(max_digits=8, decimal_places=1, null=True)
    check_out_location = models.ForeignKey(
        WorkLocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Filled when the record closes (check-out, auto-close or correction).
    worked_minutes = models.PositiveIntegerField(default=0)
    late_minutes = models.PositiveIntegerField(default=0)
    early_leave_minutes = models.PositiveIntegerField(default=0)
    overtime_minutes = models.PositiveIntegerField(default=0)
    needs_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["-check_in_at"]
        indexes = [models.Index(fields=["work_date", "employee"], name="hr_attendance_day_emp")]
        constraints = [
            # At most one open shift per employee: a second check-in races into this.
            models.UniqueConstraint(
                fields=["employee"],
                condition=Q(state="open"),
                name="hr_attendance_one_open_per_employee",
            ),
            models.CheckConstraint(
                condition=Q(check_out_at__isnull=True) | Q(check_out_at__gte=F("check_in_at")),
                name="hr_attendance_out_after_in",
            ),
            models.CheckConstraint(
                condition=Q(state="open", check_out_at__isnull=True)
                | (~Q(state="open") & Q(check_out_at__isnull=False)),
                name="hr_attendance_state_matches_out",
            ),
        ]
        permissions = [
            ("approve_attendance", "Can approve punches made outside a geofence"),
            ("approve_attendance_correction", "Can correct punches of reports"),
        ]

    def __str__(self) -> str:
        return f"{self.employee} on {self.work_date} ({self.state})"


class AttendanceCorrection(BaseModel):
    """A manager's change to a record's punches: the figures before and after, and why.
    ``created_by`` is who changed it."""

    record = models.ForeignKey(
        AttendanceRecord, on_delete=models.CASCADE, related_name="corrections"
    )
    previous_check_in_at = models.DateTimeField()
    previous_check_out_at = models.DateTimeField(null=True, blank=True)
    check_in_at = models.DateTimeField()
    check_out_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Correction of {self.record_id} by {self.corrected_by_id}"
