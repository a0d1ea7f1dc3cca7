"""Leave: types and their accrual policies, tenant holidays, requests and the balance
ledger.

A balance is the sum of an employee's ledger entries for a leave type: accruals and
adjustments add days, an approved request's usage subtracts them and its cancellation
reverses that. Nothing is ever updated in place, so the history explains every balance.

Overlap is refused by PostgreSQL itself: an exclusion constraint (btree_gist) forbids two
pending or approved requests of one employee whose date ranges intersect, so two
concurrent requests cannot both pass a check made in Python.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q

from apps.core.models import BaseModel
from apps.hr.models.people import Employee


class DateRange(Func):
    """``daterange(starts_on, ends_on, '[]')``: both ends inclusive."""

    function = "DATERANGE"
    output_field = DateRangeField()


class LeaveType(BaseModel):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    is_paid = models.BooleanField(default=True)
    # Unpaid or sick leave commonly has no balance to run out of.
    tracks_balance = models.BooleanField(default=True)
    allows_negative_balance = models.BooleanField(default=False)
    allows_half_days = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccrualPolicy(BaseModel):
    """How many days of ``leave_type`` an employee earns, and how often.

    Accrual is an idempotent scheduled job: one ledger entry per employee, type and
    period (``period_key`` such as ``2026-03`` or ``2026``), so running it twice adds
    nothing. Employees accrue from their employment start; ``cap_days`` bounds the
    balance an accrual may bring an employee to.
    """

    class Frequency(models.TextChoices):
        MONTHLY = "monthly"
        YEARLY = "yearly"

    leave_type = models.OneToOneField(
        LeaveType, on_delete=models.CASCADE, related_name="accrual_policy"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    days_per_period = models.DecimalField(max_digits=5, decimal_places=2)
    cap_days = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name_plural = "accrual policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(days_per_period__gt=0), name="hr_accrual_days_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.leave_type}: {self.days_per_period} days {self.frequency}"


class TenantHoliday(BaseModel):
    """A day off the tenant adds to the public holidays of its country."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"


class LeaveRequest(BaseModel):
    """draft -> pending -> approved | rejected; approved -> cancelled (also pending and
    draft -> cancelled, by the employee). ``days`` is the working-day count (weekends and
    holidays excluded, half days as 0.5), fixed when the request is submitted."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="leave_requests")
    leave_type = models.ForeignKey(LeaveType, on_delete=models.PROTECT, related_name="requests")
    starts_on = models.DateField()
    ends_on = models.DateField()
    # The first day starts at midday / the last day ends at midday.
    start_half = models.BooleanField(default=False)
    end_half = models.BooleanField(default=False)
    days = models.DecimalField(max_digits=6, decimal_places=1, default=Decimal(0))
    reason = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        indexes = [models.Index(fields=["employee", "starts_on"], name="hr_leave_emp_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="hr_leave_ends_after_start"
            ),
            ExclusionConstraint(
                name="hr_leave_no_overlap",
                expressions=[
                    ("employee", RangeOperators.EQUAL),
                    (
                        DateRange("starts_on", "ends_on", RangeBoundary(True, True)),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(status__in=["pending", "approved"]),
            ),
        ]
        permissions = [("approve_leave", "Can approve or reject leave of reports")]

    def __str__(self) -> str:
        return f"{self.employee} {self.leave_type} {self.starts_on}..{self.ends_on}"


class LeaveLedgerEntry(BaseModel):
    class Kind(models.TextChoices):
        ACCRUAL = "accrual"
        USAGE = "usage"
        REVERSAL = "reversal"
        ADJUSTMENT = "adjustment"

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="leave_ledger")
    leave_type = models.ForeignKey(LeaveType, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Signed: accruals and reversals add, usage subtracts, adjustments either.
    days = models.DecimalField(max_digits=6, decimal_places=2)
    effective_on = models.DateField()
    leave_request = models.ForeignKey(
        LeaveRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    # Accruals: the period they are for ("2026-03", "2026"); empty for the other kinds.
    period_key = models.CharField(max_length=10, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["effective_on", "created_at"]
        verbose_name_plural = "leave ledger entries"
        indexes = [
            models.Index(fields=["employee", "leave_type"], name="hr_ledger_emp_type"),
        ]
        constraints = [
            # Accrual runs and request transitions are idempotent because of these.
            models.UniqueConstraint(
                fields=["employee", "leave_type", "period_key"],
                condition=Q(kind="accrual"),
                name="hr_ledger_one_accrual_per_period",
            ),
            models.UniqueConstraint(
                fields=["leave_request", "kind"],
                condition=Q(leave_request__isnull=False),
                name="hr_ledger_one_entry_per_request_kind",
            ),
            models.CheckConstraint(condition=~Q(days=0), name="hr_ledger_days_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.days} {self.leave_type_id} for {self.employee_id}"
