"""Admin for HR leave (registered on import by apps.hr.admin), for HR admins.

Leave types carry their accrual policy inline. Requests are read-only here except for
the approve / reject actions, which go through the services (state machine, balance
check, ledger, notifications). The ledger is read-only; a new entry is an adjustment
made by the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.selectors import actor_for_user
from apps.core.errors import ApplicationError
from apps.hr.admin.people import HrAdmin
from apps.hr.models import AccrualPolicy, LeaveLedgerEntry, LeaveRequest, LeaveType, TenantHoliday
from apps.hr.selectors import leave as leave_selectors
from apps.hr.services import leave as services


class AccrualPolicyInline(admin.StackedInline):
    model = AccrualPolicy
    extra = 0
    max_num = 1
    fields = ("frequency", "days_per_period", "cap_days")


@admin.register(LeaveType)
class LeaveTypeAdmin(HrAdmin):
    inlines = [AccrualPolicyInline]
    list_display = (
        "name",
        "code",
        "is_paid",
        "tracks_balance",
        "allows_negative_balance",
        "allows_half_days",
        "is_active",
    )
    list_filter = ("is_active", "is_paid")
    search_fields = ("name", "code")

    def delete_model(self, request: HttpRequest, obj: LeaveType) -> None:
        self._delete(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LeaveType]) -> None:
        self._delete(request, list(queryset))

    def _delete(self, request: HttpRequest, leave_types: list[LeaveType]) -> None:
        actor = actor_for_user(user=request.user)
        try:
            for leave_type in leave_types:
                services.leave_type_delete(actor=actor, leave_type=leave_type)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)


@admin.register(TenantHoliday)
class TenantHolidayAdmin(HrAdmin):
    list_display = ("date", "name")
    date_hierarchy = "date"
    search_fields = ("name",)


@admin.register(LeaveRequest)
class LeaveRequestAdmin(HrAdmin):
    list_display = (
        "employee",
        "leave_type",
        "starts_on",
        "ends_on",
        "days",
        "status",
        "decided_by",
    )
    list_filter = ("status", "leave_type")
    search_fields = ("employee__first_name", "employee__last_name", "employee__employee_number")
    date_hierarchy = "starts_on"
    list_select_related = ("employee", "leave_type", "decided_by")
    actions = ["approve_selected", "reject_selected"]
    readonly_fields = [field.name for field in LeaveRequest._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Requests are filed on the staff pages or the API, where the rules apply.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Approve selected pending requests", permissions=["view"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[LeaveRequest]) -> None:
        self._decide(request, queryset, services.leave_request_approve, "approved")

    @admin.action(description="Reject selected pending requests", permissions=["view"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[LeaveRequest]) -> None:
        self._decide(request, queryset, services.leave_request_reject, "rejected")

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[LeaveRequest], service: Any, verb: str
    ) -> None:
        actor = actor_for_user(user=request.user)
        done = 0
        for leave in queryset:
            try:
                service(actor=actor, leave=leave)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{leave}: {error.message}", level=messages.ERROR)
        if done:
            self.message_user(request, f"{done} request(s) {verb}.", level=messages.SUCCESS)


class LeaveAdjustmentForm(forms.ModelForm):
    class Meta:
        model = LeaveLedgerEntry
        fields = ("employee", "leave_type", "days", "effective_on", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].required = True
        self.fields["effective_on"].required = False

    def clean(self) -> dict:
        # The service checks again under the balance lock; this puts the usual refusals
        # next to the fields instead of failing the save.
        data = super().clean()
        days, employee, leave_type = data.get("days"), data.get("employee"), data.get("leave_type")
        if days is not None and days == 0:
            self.add_error("days", "An adjustment changes the balance: not zero.")
        if days is None or employee is None or leave_type is None or days >= 0:
            return data
        if leave_type.tracks_balance and not leave_type.allows_negative_balance:
            balance = leave_selectors.leave_balance_days(employee=employee, leave_type=leave_type)
            if balance + days < 0:
                self.add_error("days", f"The balance is {balance}; it cannot go below zero.")
        return data


@admin.register(LeaveLedgerEntry)
class LeaveLedgerEntryAdmin(HrAdmin):
    """Read-only history; "add" makes an adjustment through the service."""

    form = LeaveAdjustmentForm
    list_display = ("employee", "leave_type", "kind", "days", "effective_on", "period_key")
    list_filter = ("kind", "leave_type")
    search_fields = ("employee__first_name", "employee__last_name", "employee__employee_number")
    list_select_related = ("employee", "leave_type")
    autocomplete_fields = ("employee",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: LeaveLedgerEntry, form: Any, change: bool
    ) -> None:
        entry = services.leave_adjustment_create(
            actor=actor_for_user(user=request.user),
            employee_id=obj.employee_id,
            leave_type_id=obj.leave_type_id,
            days=obj.days,
            note=obj.note,
            effective_on=obj.effective_on,
        )
        obj.pk = entry.pk
