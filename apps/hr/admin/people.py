"""Admin for HR admins: tenant hosts only, and only while the tenant has the hr module.
Forms apply the same normalisation and cycle checks as the services; deleting an employee
goes through the soft-delete service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.selectors import actor_for_user
from apps.core.admin import TenantOnlyAdmin
from apps.core.errors import ApplicationError
from apps.core.modules import module_enabled
from apps.hr import selectors, services
from apps.hr.models import Department, Employee, Position, WorkLocation
from apps.hr.phone import PhoneInvalidError, phone_normalize


class HrAdmin(TenantOnlyAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return module_enabled(request, "hr") and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return module_enabled(request, "hr") and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return module_enabled(request, "hr") and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return module_enabled(request, "hr") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return module_enabled(request, "hr") and super().has_delete_permission(request, obj)


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ("name", "parent")

    def clean_parent(self) -> Department | None:
        parent = self.cleaned_data.get("parent")
        if parent is not None and self.instance.pk is not None:
            below = selectors.department_descendant_ids(department=self.instance)
            if parent.pk == self.instance.pk or parent.pk in below:
                raise ValidationError(
                    "A department cannot sit under itself or its sub-departments."
                )
        return parent


@admin.register(Department)
class DepartmentAdmin(HrAdmin):
    form = DepartmentForm
    list_display = ("name", "parent")
    search_fields = ("name",)


@admin.register(Position)
class PositionAdmin(HrAdmin):
    list_display = ("title",)
    search_fields = ("title",)


class WorkLocationForm(forms.ModelForm):
    class Meta:
        model = WorkLocation
        fields = ("name", "address", "latitude", "longitude", "radius_m", "time_zone")

    def clean_time_zone(self) -> str:
        return services.time_zone_validate(self.cleaned_data["time_zone"], field="time_zone")


@admin.register(WorkLocation)
class WorkLocationAdmin(HrAdmin):
    form = WorkLocationForm
    list_display = ("name", "latitude", "longitude", "radius_m", "time_zone")
    search_fields = ("name",)


class EmployeeForm(forms.ModelForm):
    class Meta:
        model = Employee
        fields = (
            "employee_number",
            "first_name",
            "last_name",
            "email",
            "phone",
            "department",
            "position",
            "manager",
            "employment_start",
            "employment_end",
            "work_time_zone",
            "user",
            "allowed_locations",
            "is_geofence_exempt",
        )

    def clean_phone(self) -> str:
        try:
            return phone_normalize(self.cleaned_data.get("phone") or "")
        except PhoneInvalidError as error:
            raise ValidationError("Not a valid phone number; use the form +...") from error

    def clean_work_time_zone(self) -> str:
        return services.time_zone_validate(
            self.cleaned_data["work_time_zone"], field="work_time_zone"
        )

    def clean_manager(self) -> Employee | None:
        manager = self.cleaned_data.get("manager")
        if manager is not None and self.instance.pk is not None:
            reports = selectors.employee_report_ids(employee=self.instance)
            if manager.pk == self.instance.pk or manager.pk in reports:
                raise ValidationError("This employee cannot report to one of their reports.")
        return manager


@admin.register(Employee)
class EmployeeAdmin(HrAdmin):
    form = EmployeeForm
    list_display = ("employee_number", "first_name", "last_name", "department", "manager")
    list_filter = ("department", "position")
    search_fields = ("employee_number", "first_name", "last_name", "email")
    autocomplete_fields = ("manager",)
    filter_horizontal = ("allowed_locations",)

    def delete_model(self, request: HttpRequest, obj: Employee) -> None:
        self._soft_delete(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Employee]) -> None:
        self._soft_delete(request, list(queryset))

    def _soft_delete(self, request: HttpRequest, employees: list[Employee]) -> None:
        actor = actor_for_user(user=request.user)
        try:
            for employee in employees:
                services.employee_delete(actor=actor, employee=employee)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
