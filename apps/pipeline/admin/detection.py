"""Admin for pipeline detection (registered on import by apps.pipeline.admin): rules,
saved through the services' checks; alarms, read-only but for the clear action (through
the service); water balances, read-only. Tenant hosts with the pipeline module only, and
every list under the zone row scope of the signed-in user."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.selectors import actor_for_user
from apps.core.admin import TenantOnlyAdmin
from apps.core.errors import ApplicationError
from apps.core.modules import module_enabled
from apps.pipeline.models import Alarm, DetectionRule, ZoneWaterBalance
from apps.pipeline.selectors.network import zone_ids_visible
from apps.pipeline.services import detection as services


class DetectionAdmin(TenantOnlyAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return module_enabled(request, "pipeline") and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return module_enabled(request, "pipeline") and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return module_enabled(request, "pipeline") and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return module_enabled(request, "pipeline") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return module_enabled(request, "pipeline") and super().has_delete_permission(request, obj)

    def _visible_zone_ids(self, request: HttpRequest) -> list[str] | None:
        visible = zone_ids_visible(actor=actor_for_user(user=request.user))
        return None if visible is None else list(visible)


class DetectionRuleForm(forms.ModelForm):
    class Meta:
        model = DetectionRule
        fields = (
            "name",
            "kind",
            "sensor",
            "zone",
            "threshold",
            "window_minutes",
            "severity",
            "opens_incident",
            "required_skill",
            "is_active",
        )

    def _post_clean(self) -> None:
        super()._post_clean()
        for name, problems in services.detection_rule_errors(self.instance).items():
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)


@admin.register(DetectionRule)
class DetectionRuleAdmin(DetectionAdmin):
    form = DetectionRuleForm
    list_display = ("name", "kind", "sensor", "zone", "threshold", "window_minutes", "is_active")
    list_filter = ("kind", "severity", "is_active")
    search_fields = ("name", "sensor__code", "zone__code")
    raw_id_fields = ("sensor", "zone")

    def get_queryset(self, request: HttpRequest) -> QuerySet[DetectionRule]:
        rules = super().get_queryset(request).select_related("sensor", "zone")
        visible = self._visible_zone_ids(request)
        if visible is None:
            return rules
        return rules.filter(zone_id__in=visible) | rules.filter(sensor__zone_id__in=visible)

    def save_model(self, request: HttpRequest, obj: DetectionRule, form: Any, change: bool) -> None:
        actor = actor_for_user(user=request.user)
        data = {name: form.cleaned_data.get(name) for name in services.RULE_FIELDS}
        data["sensor"] = data["sensor"].pk if data["sensor"] else None
        data["zone"] = data["zone"].pk if data["zone"] else None
        if change:
            services.detection_rule_update(actor=actor, rule=obj, data=data)
        else:
            saved = services.detection_rule_create(actor=actor, data=data)
            obj.pk = saved.pk
            obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: DetectionRule) -> None:
        services.detection_rule_delete(actor=actor_for_user(user=request.user), rule=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[DetectionRule]) -> None:
        actor = actor_for_user(user=request.user)
        for rule in queryset:
            services.detection_rule_delete(actor=actor, rule=rule)


@admin.register(Alarm)
class AlarmAdmin(DetectionAdmin):
    list_display = (
        "kind",
        "status",
        "severity",
        "zone",
        "sensor",
        "value",
        "detection_count",
        "last_detected_at",
    )
    list_filter = ("status", "kind", "severity")
    search_fields = ("message", "zone__code", "sensor__code")
    date_hierarchy = "last_detected_at"
    actions = ["clear_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alarm]:
        alarms = super().get_queryset(request).select_related("zone", "sensor", "rule")
        visible = self._visible_zone_ids(request)
        return alarms if visible is None else alarms.filter(zone_id__in=visible)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Clear the selected active alarms")
    def clear_selected(self, request: HttpRequest, queryset: QuerySet[Alarm]) -> None:
        actor = actor_for_user(user=request.user)
        cleared = 0
        for alarm in queryset.filter(status=Alarm.Status.ACTIVE):
            try:
                services.alarm_clear(actor=actor, alarm=alarm)
            except ApplicationError as error:
                self.message_user(request, error.message, level=messages.ERROR)
                return
            cleared += 1
        self.message_user(request, f"{cleared} alarm(s) cleared.")


@admin.register(ZoneWaterBalance)
class ZoneWaterBalanceAdmin(DetectionAdmin):
    list_display = (
        "zone",
        "day",
        "inflow_m3",
        "outflow_m3",
        "consumption_m3",
        "loss_m3",
        "loss_pct",
        "min_night_flow_m3h",
        "coverage",
    )
    list_filter = ("day",)
    search_fields = ("zone__code",)
    date_hierarchy = "day"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ZoneWaterBalance]:
        balances = super().get_queryset(request).select_related("zone")
        visible = self._visible_zone_ids(request)
        return balances if visible is None else balances.filter(zone_id__in=visible)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
