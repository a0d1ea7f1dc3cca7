"""HR reports, registered in the platform's report registry (discovered by apps.reports).

The payroll register: one row per payslip of a month's run, then a totals row. Rows stream
from a server-side cursor into a write-only workbook (apps.reports.excel), so memory does
not grow with the number of employees.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat
from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.hr.selectors import payroll as selectors
from apps.hr.services.payroll import period_parse
from apps.reports.excel import Column, queryset_rows, xlsx_write
from apps.reports.registry import ReportOutput, report

REGISTER_COLUMNS = [
    Column("Employee number", 16),
    Column("Employee", 28),
    Column("Structure", 20),
    Column("Monthly base", 14),
    Column("Working days", 12),
    Column("Days employed", 13),
    Column("Unpaid leave days", 16),
    Column("Absent days", 12),
    Column("Overtime hours", 14),
    Column("Gross", 14),
    Column("Deductions", 14),
    Column("Net", 14),
    Column("Error", 30),
]


class PayrollRegisterParameters(StrictSerializer):
    period = serializers.RegexField(
        r"^\d{4}-\d{2}$", max_length=7, help_text="The month of the run, YYYY-MM."
    )

    def validate_period(self, value: str) -> str:
        try:
            period_parse(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError("A month as YYYY-MM, e.g. 2026-03.") from error
        return value


@report(
    name="hr-payroll-register",
    title="Payroll register",
    permission=selectors.ALL_PAYSLIPS_PERMISSION,
    parameters=PayrollRegisterParameters,
    format="xlsx",
    module="hr",
    description="Every payslip of a month's payroll run with its figures, and the totals.",
)
def payroll_register_report(*, actor: Actor, params: dict[str, Any], output: ReportOutput) -> int:
    run = selectors.payroll_run_for_period(period=period_parse(params["period"]))
    if run is None:
        raise NotFoundError(period=params["period"])
    payslips = selectors.payroll_register_rows(actor=actor, run=run).annotate(
        employee_label=Concat(
            F("employee__first_name"),
            Value(" "),
            F("employee__last_name"),
            output_field=CharField(),
        )
    )
    rows = queryset_rows(
        payslips,
        "employee__employee_number",
        "employee_label",
        "structure_name",
        "base_pay",
        "working_days",
        "employed_days",
        "unpaid_leave_days",
        "absent_days",
        "overtime_hours",
        "gross",
        "deductions",
        "net",
        "error_code",
    )

    def with_totals() -> Iterator[tuple[Any, ...]]:
        yield from rows
        # The run's stored totals: equal to the column sums, to the cent.
        yield (
            "Total",
            f"{run.employee_count} employees",
            "",
            None,
            None,
            None,
            None,
            None,
            None,
            Decimal(run.gross_total),
            Decimal(run.deduction_total),
            Decimal(run.net_total),
            f"{run.error_count} errors" if run.error_count else "",
        )

    return xlsx_write(
        path=output.path,
        sheet_title=f"Payroll {run.period:%Y-%m}",
        columns=REGISTER_COLUMNS,
        rows=with_totals(),
        total=run.employee_count + 1,
        on_progress=output.progress,
    )
