"""Payroll tables: salary components and structures, assignments, runs, payslips.

Amounts are Decimals stored to the cent (apps.hr.money). A payslip's figures are sums of
its stored (already rounded) lines, and a run's totals are sums of its payslips, so the
three always agree to the cent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel
from apps.hr.models.people import Employee

__all__ = [
    "PayrollRun",
    "Payslip",
    "PayslipLine",
    "SalaryAssignment",
    "SalaryComponent",
    "SalaryStructure",
]

# A component's code is a name inside formulas: a Python-style identifier in lower case.
COMPONENT_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


class SalaryComponent(BaseModel):
    """One figure of a payslip: an earning or a deduction, fixed, a percentage of another
    component (of the earned base pay when ``base_component`` is empty) or a formula."""

    class Kind(models.TextChoices):
        EARNING = "earning"
        DEDUCTION = "deduction"

    class Calculation(models.TextChoices):
        FIXED = "fixed"
        PERCENTAGE = "percentage"
        FORMULA = "formula"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    calculation = models.CharField(max_length=10, choices=Calculation.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Fixed amounts are monthly: a joiner or leaver gets the share of their working days.
    is_prorated = models.BooleanField(default=True)
    percentage = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    base_component = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="percentage_dependents",
    )
    formula = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=COMPONENT_CODE_PATTERN), name="hr_component_code_format"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        calculation="fixed",
                        amount__isnull=False,
                        percentage__isnull=True,
                        base_component__isnull=True,
                        formula="",
                    )
                    | Q(
                        calculation="percentage",
                        amount__isnull=True,
                        percentage__isnull=False,
                        formula="",
                    )
                    | (
                        Q(
                            calculation="formula",
                            amount__isnull=True,
                            percentage__isnull=True,
                            base_component__isnull=True,
                        )
                        & ~Q(formula="")
                    )
                ),
                name="hr_component_calculation_fields",
            ),
            models.CheckConstraint(
                condition=~Q(base_component=models.F("id")), name="hr_component_not_own_base"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class SalaryStructure(BaseModel):
    """A named set of components, assigned to employees with their base pay."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    components = models.ManyToManyField(SalaryComponent, blank=True, related_name="structures")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SalaryAssignment(BaseModel):
    """From ``effective_from`` on, ``employee`` is paid ``base_pay`` a month under
    ``structure``, until the employee's next assignment takes effect."""

    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="salary_assignments"
    )
    structure = models.ForeignKey(
        SalaryStructure, on_delete=models.PROTECT, related_name="assignments"
    )
    base_pay = models.DecimalField(max_digits=12, decimal_places=2)
    effective_from = models.DateField()

    class Meta:
        ordering = ["employee", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "effective_from"], name="hr_salary_assignment_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(base_pay__gte=0), name="hr_salary_assignment_base_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee} on {self.structure} from {self.effective_from}"


class PayrollRun(BaseModel):
    """The payroll of one month (``period`` is its first day); one run per month.

    draft (queued) -> computing -> computed | failed, recomputable until approved;
    approved is final: nothing of the run or its payslips changes after it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft"
        COMPUTING = "computing"
        COMPUTED = "computed"
        FAILED = "failed"
        APPROVED = "approved"

    period = models.DateField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    job = models.ForeignKey(
        "jobs.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    currency = models.CharField(max_length=3, default="GBP")
    # Bumped by every computation; payslips of an older one are stale and removed.
    generation = models.PositiveIntegerField(default=0)
    employee_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    gross_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    deduction_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    net_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period"]
        constraints = [
            models.CheckConstraint(condition=Q(period__day=1), name="hr_payroll_period_first_day"),
        ]
        permissions = [
            # Not "approve_...": the built-in manager role receives every approve_*
            # permission (apps.accounts.roles); payroll is for HR admins only.
            ("run_payroll", "Can run, recompute and approve payroll (HR admin)"),
        ]

    def __str__(self) -> str:
        return f"Payroll {self.period:%Y-%m} ({self.status})"

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.APPROVED


class Payslip(BaseModel):
    """One employee's pay in one run. ``error_code`` is set (and the figures are zero)
    when the employee's computation failed, say a formula dividing by zero."""

    run = models.ForeignKey(PayrollRun, on_delete=models.CASCADE, related_name="payslips")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="payslips")
    generation = models.PositiveIntegerField(default=0)
    structure_name = models.CharField(max_length=120, blank=True)
    base_pay = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    days_in_period = models.PositiveSmallIntegerField(default=0)
    working_days = models.PositiveSmallIntegerField(default=0)
    employed_days = models.PositiveSmallIntegerField(default=0)
    unpaid_leave_days = models.DecimalField(max_digits=5, decimal_places=1, default=0)
    absent_days = models.PositiveSmallIntegerField(default=0)
    overtime_hours = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    gross = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    deductions = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    net = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    # In the tenant's storage (MEDIA_ROOT/<schema>/hr/payslips/...), after approval.
    pdf = models.FileField(upload_to="hr/payslips/", max_length=300, blank=True)
    pdf_generated_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "employee__employee_number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "employee"], name="hr_payslip_one_per_run"),
            models.CheckConstraint(
                condition=Q(net=models.F("gross") - models.F("deductions")),
                name="hr_payslip_net_is_gross_minus_deductions",
            ),
        ]
        permissions = [
            # Not "view_...": staff and viewers receive every view_* permission, and this
            # one bypasses the own-payslips row scope.
            ("access_all_payslips", "Can see every payslip and the payroll (HR admin)"),
        ]

    def __str__(self) -> str:
        return f"Payslip {self.run.period:%Y-%m} {self.employee}"

    @property
    def is_generated(self) -> bool:
        return bool(self.pdf)


class PayslipLine(models.Model):
    """One figure of a payslip with the sentence that explains it. Amounts are positive
    for what the line's kind says (an earning adds, a deduction subtracts)."""

    id = models.BigAutoField(primary_key=True)
    payslip = models.ForeignKey(Payslip, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=32)
    label = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=SalaryComponent.Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    explanation = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["payslip", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["payslip", "position"], name="hr_payslip_line_one_per_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount}"
