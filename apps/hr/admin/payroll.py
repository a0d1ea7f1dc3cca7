"""Admin for HR payroll (registered on import by apps.hr.admin).

Every write goes through apps.hr.services.payroll, so formulas are checked and a locked run
stays locked exactly as through the API. Payslips are read-only: they change only by
recomputing their run.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.selectors import actor_for_user
from apps.core.errors import ApplicationError
from apps.hr.admin.people import HrAdmin
from apps.hr.models import (
    PayrollRun,
    Payslip,
    PayslipLine,
    SalaryAssignment,
    SalaryComponent,
    SalaryStructure,
)
from apps.hr.selectors import payroll as selectors
from apps.hr.services import payroll as services

COMPONENT_FORM_FIELDS = (
    "code",
    "name",
    "kind",
    "calculation",
    "amount",
    "is_prorated",
    "percentage",
    "base_component",
    "formula",
)


class SalaryComponentForm(forms.ModelForm):
    class Meta:
        model = SalaryComponent
        fields = COMPONENT_FORM_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        # Validate on a copy: the service's checks set fields and raise the same errors the
        # API gives, shown here next to the form.
        probe = SalaryComponent(pk=self.instance.pk) if self.instance.pk else SalaryComponent()
        probe._state.adding = self.instance._state.adding
        if not probe._state.adding:
            probe.code = self.instance.code
        values = {name: data.get(name) for name in COMPONENT_FORM_FIELDS}
        values["base_component"] = data["base_component"].pk if data.get("base_component") else None
        values["formula"] = data.get("formula") or ""
        try:
            services._component_apply(probe, values)
        except ApplicationError as error:
            raise ValidationError({"formula": [f"{error.message} ({error.code})"]}) from error
        return data


def _actor(request: HttpRequest) -> Any:
    return actor_for_user(user=request.user)


@admin.register(SalaryComponent)
class SalaryComponentAdmin(HrAdmin):
    form = SalaryComponentForm
    list_display = ("code", "name", "kind", "calculation", "amount", "percentage", "formula")
    list_filter = ("kind", "calculation")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Formulas and payslips refer to the code.
        return ("code",) if obj is not None else ()

    def delete_model(self, request: HttpRequest, obj: SalaryComponent) -> None:
        try:
            services.salary_component_delete(actor=_actor(request), component=obj)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SalaryComponent]) -> None:
        for component in queryset:
            self.delete_model(request, component)


class SalaryStructureForm(forms.ModelForm):
    class Meta:
        model = SalaryStructure
        fields = ("name", "description", "components")

    def clean_components(self) -> Any:
        components = self.cleaned_data["components"]
        try:
            services._structure_check(components=list(components))
        except ApplicationError as error:
            raise ValidationError(f"{error.message} ({error.code}: {error.details})") from error
        return components


@admin.register(SalaryStructure)
class SalaryStructureAdmin(HrAdmin):
    form = SalaryStructureForm
    list_display = ("name", "description")
    search_fields = ("name",)
    filter_horizontal = ("components",)


@admin.register(SalaryAssignment)
class SalaryAssignmentAdmin(HrAdmin):
    list_display = ("employee", "structure", "base_pay", "effective_from")
    list_filter = ("structure",)
    search_fields = ("employee__employee_number", "employee__last_name")
    autocomplete_fields = ("employee",)
    date_hierarchy = "effective_from"


class PayrollRunAddForm(forms.ModelForm):
    month = forms.CharField(max_length=7, help_text="YYYY-MM, e.g. 2026-03")

    class Meta:
        model = PayrollRun
        fields = ()

    def clean_month(self) -> Any:
        period = services.period_parse(self.cleaned_data["month"])
        existing = selectors.payroll_run_for_period(period=period)
        if existing is not None:
            raise ValidationError(
                "This month is approved and locked."
                if existing.is_locked
                else "This month has a run already: recompute it instead."
            )
        return period


@admin.register(PayrollRun)
class PayrollRunAdmin(HrAdmin):
    list_display = (
        "period",
        "status",
        "employee_count",
        "error_count",
        "gross_total",
        "deduction_total",
        "net_total",
        "approved_at",
    )
    list_filter = ("status",)
    actions = ("recompute", "approve")
    readonly_fields = (
        "period",
        "status",
        "job",
        "currency",
        "employee_count",
        "error_count",
        "gross_total",
        "deduction_total",
        "net_total",
        "error_code",
        "error_message",
        "computed_at",
        "approved_by",
        "approved_at",
    )

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = PayrollRunAddForm
            kwargs["fields"] = ("month",)
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ("month",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            False
            if obj is not None and obj.is_locked
            else super().has_change_permission(request, obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # runs are history; an open one is recomputed instead

    def save_model(self, request: HttpRequest, obj: PayrollRun, form: Any, change: bool) -> None:
        if change:
            return
        try:
            run = services.payroll_run_start(
                actor=_actor(request), period=form.cleaned_data["month"]
            )
        except ApplicationError as error:
            # The admin expects a saved object; show the refusal on the form instead.
            raise ValidationError(error.message) from error
        obj.pk = run.pk
        obj._state.adding = False
        obj.period = run.period

    @admin.action(description="Recompute the selected runs")
    def recompute(self, request: HttpRequest, queryset: QuerySet[PayrollRun]) -> None:
        self._each(request, queryset, services.payroll_run_recompute, "recompute queued")

    @admin.action(description="Approve (lock) the selected runs")
    def approve(self, request: HttpRequest, queryset: QuerySet[PayrollRun]) -> None:
        url = request.build_absolute_uri("/hr/payslips/")

        def approve(*, actor: Any, run: PayrollRun) -> PayrollRun:
            return services.payroll_run_approve(actor=actor, run=run, payslips_url=url)

        self._each(request, queryset, approve, "approved")

    def _each(self, request: HttpRequest, queryset: Any, service: Any, done: str) -> None:
        actor = _actor(request)
        for run in queryset:
            try:
                service(actor=actor, run=run)
            except ApplicationError as error:
                self.message_user(
                    request, f"{run.period:%Y-%m}: {error.message}", level=messages.ERROR
                )
            else:
                self.message_user(request, f"{run.period:%Y-%m}: {done}.")


class PayslipLineInline(admin.TabularInline):
    model = PayslipLine
    fields = ("position", "code", "label", "kind", "amount", "explanation")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payslip)
class PayslipAdmin(HrAdmin):
    list_display = ("run", "employee", "gross", "deductions", "net", "error_code", "emailed_at")
    list_filter = ("run",)
    search_fields = ("employee__employee_number", "employee__last_name")
    list_select_related = ("run", "employee")
    inlines = (PayslipLineInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in Payslip._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
