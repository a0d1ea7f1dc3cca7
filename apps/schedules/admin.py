"""Read-mostly admin: schedules change through the API (which keeps beat in step); the
admin can switch them on and off and delete them, through the same services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.selectors import actor_for_user
from apps.core.admin import TenantOnlyAdmin
from apps.core.errors import ApplicationError
from apps.schedules import services
from apps.schedules.models import Schedule, ScheduleRun


@admin.register(Schedule)
class ScheduleAdmin(TenantOnlyAdmin):
    list_display = ("name", "task", "cron", "timezone", "is_enabled", "last_run_at")
    list_filter = ("is_enabled", "task")
    search_fields = ("name",)
    readonly_fields = (
        "name",
        "task",
        "params",
        "cron",
        "timezone",
        "is_enabled",
        "last_run_at",
        "created_by",
        "created_at",
    )
    exclude = ("updated_by",)
    actions = ("enable", "disable")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Switch the selected schedules on", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        self._set_enabled(request, queryset, is_enabled=True)

    @admin.action(description="Switch the selected schedules off", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        self._set_enabled(request, queryset, is_enabled=False)

    def _set_enabled(
        self, request: HttpRequest, queryset: QuerySet[Schedule], *, is_enabled: bool
    ) -> None:
        actor = actor_for_user(user=request.user)
        try:
            for schedule in queryset:
                services.schedule_update(
                    actor=actor, schedule=schedule, data={"is_enabled": is_enabled}
                )
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)

    def save_model(self, request: HttpRequest, obj: Schedule, form: Any, change: bool) -> None:
        # Every field is read-only here; saving must not bypass the beat entry sync.
        return

    def delete_model(self, request: HttpRequest, obj: Schedule) -> None:
        services.schedule_delete(actor=actor_for_user(user=request.user), schedule=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        actor = actor_for_user(user=request.user)
        for schedule in queryset:
            services.schedule_delete(actor=actor, schedule=schedule)


@admin.register(ScheduleRun)
class ScheduleRunAdmin(TenantOnlyAdmin):
    list_display = ("schedule", "source", "task", "fired_at", "finished_at", "requested_by")
    list_filter = ("source", "task")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
