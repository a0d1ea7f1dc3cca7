"""Admin for HR attendance (registered on import by apps.hr.admin): the policy, shift
templates, the roster, and attendance records, which are read-only except for a manager's
correction (through attendance_correct) and the approval actions. Nothing is deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.selectors import actor_for_user
from apps.core.errors import ApplicationError
from apps.hr import timecalc
from apps.hr.admin.people import HrAdmin
from apps.hr.models import (
    AttendanceCorrection,
    AttendanceRecord,
    HrPolicy,
    ShiftAssignment,
    ShiftTemplate,
)
from apps.hr.selectors import attendance as selectors
from apps.hr.services import attendance as services


class HrPolicyForm(forms.ModelForm):
    class Meta:
        model = HrPolicy
        fields = services.POLICY_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        candidate = HrPolicy(**{name: data.get(name) for name in services.POLICY_FIELDS})
        candidate.holiday_country = (candidate.holiday_country or "").upper()
        candidate.currency = (candidate.currency or "").upper()
        if not self.errors:
            services.hr_policy_validate(candidate)
        data["holiday_country"] = candidate.holiday_country
        data["currency"] = candidate.currency
        return data


@admin.register(HrPolicy)
class HrPolicyAdmin(HrAdmin):
    form = HrPolicyForm
    list_display = ("__str__", "outside_geofence", "max_accuracy_m", "holiday_country")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row per tenant, created on first use (hr_policy_get).
        return not HrPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShiftTemplateForm(forms.ModelForm):
    class Meta:
        model = ShiftTemplate
        fields = ("name", "start_time", "end_time", "break_minutes", "grace_minutes")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors:
            services.shift_template_apply(ShiftTemplate(), data)
        return data


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(HrAdmin):
    form = ShiftTemplateForm
    list_display = ("name", "start_time", "end_time", "break_minutes", "grace_minutes")
    search_fields = ("name",)


@admin.register(ShiftAssignment)
class ShiftAssignmentAdmin(HrAdmin):
    list_display = ("employee", "shift", "weekdays", "valid_from", "valid_to")
    list_filter = ("shift",)
    search_fields = ("employee__first_name", "employee__last_name", "employee__employee_number")
    autocomplete_fields = ("employee",)
    fields = ("employee", "shift", "weekdays", "valid_from", "valid_to")


class AttendanceCorrectionInline(admin.TabularInline):
    model = AttendanceCorrection
    fk_name = "record"
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "corrected_by",
        "previous_check_in_at",
        "previous_check_out_at",
        "check_in_at",
        "check_out_at",
        "reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


LOCAL_HELP = "Local time in the employee's work time zone."


class AttendanceCorrectionForm(forms.ModelForm):
    """No model field is editable; a filled-in correction goes through the service."""

    corrected_check_in = forms.DateTimeField(required=False, help_text=LOCAL_HELP)
    corrected_check_out = forms.DateTimeField(required=False, help_text=LOCAL_HELP)
    reason = forms.CharField(required=False, max_length=500, widget=forms.Textarea)

    actor: Any = None

    class Meta:
        model = AttendanceRecord
        fields: tuple[str, ...] = ()

    def _as_utc(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        # The form made it aware in the site's zone; the user typed the employee's wall
        # clock, so read the same wall-clock digits in that zone.
        naive = timezone.make_naive(value)
        return timecalc.local_to_utc(naive, self.instance.employee.work_time_zone)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        check_in = self._as_utc(data.get("corrected_check_in"))
        check_out = self._as_utc(data.get("corrected_check_out"))
        reason = data.get("reason") or ""
        if check_in is None and check_out is None and not reason:
            return data  # nothing to correct
        if check_in is None:
            check_in = self.instance.check_in_at
        if not self.actor.has_perm("hr.approve_attendance_correction") or not (
            selectors.actor_manages(actor=self.actor, employee=self.instance.employee)
        ):
            raise ValidationError("Only a manager of this employee or an HR admin may correct.")
        try:
            services.attendance_correction_validate(
                self.instance,
                check_in_at=check_in,
                check_out_at=check_out,
                reason=reason,
                now=timezone.now(),
            )
        except ValidationError as error:
            renamed = {"check_in_at": "corrected_check_in", "check_out_at": "corrected_check_out"}
            raise ValidationError(
                {renamed.get(name, name): messages for name, messages in error.message_dict.items()}
            ) from error
        data["correction"] = {"check_in_at": check_in, "check_out_at": check_out, "reason": reason}
        return data


@admin.register(AttendanceRecord)
class AttendanceRecordAdmin(HrAdmin):
    form = AttendanceCorrectionForm
    inlines = (AttendanceCorrectionInline,)
    list_display = (
        "employee",
        "work_date",
        "state",
        "approval",
        "needs_review",
        "check_in_at",
        "check_out_at",
        "worked_minutes",
        "late_minutes",
        "overtime_minutes",
    )
    list_filter = ("state", "approval", "needs_review", "work_date")
    search_fields = ("employee__first_name", "employee__last_name", "employee__employee_number")
    date_hierarchy = "work_date"
    list_select_related = ("employee",)
    actions = ("approve_selected", "reject_selected")
    readonly_fields = (
        "employee",
        "work_date",
        "shift",
        "scheduled_start_at",
        "scheduled_end_at",
        "state",
        "approval",
        "needs_review",
        "punched_in_at",
        "punched_out_at",
        "check_in_at",
        "check_out_at",
        "check_in_latitude",
        "check_in_longitude",
        "check_in_accuracy_m",
        "check_in_location",
        "check_out_latitude",
        "check_out_longitude",
        "check_out_accuracy_m",
        "check_out_location",
        "worked_minutes",
        "late_minutes",
        "early_leave_minutes",
        "overtime_minutes",
    )
    fieldsets = (
        (None, {"fields": readonly_fields}),
        (
            "Correct the punches (the punches as made are kept)",
            {"fields": ("corrected_check_in", "corrected_check_out", "reason")},
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # punches come from check-in, never typed in

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # attendance is a record of what happened

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = actor_for_user(user=request.user)
        return form

    def save_model(self, request: HttpRequest, obj: AttendanceRecord, form: Any, change: bool):
        correction = form.cleaned_data.get("correction")
        if correction is None:
            return
        try:
            services.attendance_correct(
                actor=actor_for_user(user=request.user), record=obj, **correction
            )
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)

    def _decide(self, request: HttpRequest, queryset: QuerySet, service: Any) -> None:
        actor = actor_for_user(user=request.user)
        done = 0
        for record in queryset.select_related("employee"):
            try:
                service(actor=actor, record=record)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{record}: {error.message}", level=messages.WARNING)
        self.message_user(request, f"{done} record(s) updated.")

    @admin.action(description="Approve selected pending punches")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, services.attendance_approve)

    @admin.action(description="Reject selected pending punches")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, services.attendance_reject)
