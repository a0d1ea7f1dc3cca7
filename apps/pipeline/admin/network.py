"""Admin of the network: tenant hosts only, and only while the tenant has the pipeline
module. Lists are zone-scoped like the API for users without access_all_zones; forms
apply the services' checks (zone cycles, sensor zone = asset zone, skills normalised),
and deletes go through the services (soft deletes, in-use refusals)."""

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
from apps.pipeline.models import Asset, Device, FieldTeam, Sensor, TeamMember, Zone
from apps.pipeline.selectors import network as selectors
from apps.pipeline.services import network as services


class PipelineAdmin(TenantOnlyAdmin):
    """Module gate for every pipeline admin page (other pipeline admin modules may
    subclass it)."""

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


class ZoneScopedAdmin(PipelineAdmin):
    # The zone foreign key path of the model; rows outside the user's zones are hidden.
    zone_field = "zone"
    # Name of the service that deletes one row: fn(actor=, <model_name>=).
    delete_service: str = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        return selectors.zone_scope_filter(
            queryset, actor=actor_for_user(user=request.user), field=self.zone_field
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._delete(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._delete(request, list(queryset))

    def _delete(self, request: HttpRequest, objects: list[Any]) -> None:
        actor = actor_for_user(user=request.user)
        service = getattr(services, self.delete_service)
        argument = self.model._meta.model_name
        try:
            for obj in objects:
                service(actor=actor, **{argument: obj})
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)


class ZoneForm(forms.ModelForm):
    class Meta:
        model = Zone
        fields = ("code", "name", "kind", "parent", "loss_alarm_pct")

    def clean_parent(self) -> Zone | None:
        parent = self.cleaned_data.get("parent")
        if parent is not None and self.instance.pk is not None:
            below = selectors.zone_ids_with_descendants([self.instance.pk])
            if str(parent.pk) in below:
                raise ValidationError("A zone cannot sit under itself or one of its sub-zones.")
        return parent


@admin.register(Zone)
class ZoneAdmin(ZoneScopedAdmin):
    form = ZoneForm
    zone_field = "pk"
    delete_service = "zone_delete"
    list_display = ("code", "name", "kind", "parent", "loss_alarm_pct")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(Asset)
class AssetAdmin(ZoneScopedAdmin):
    delete_service = "asset_delete"
    list_display = ("code", "name", "kind", "status", "zone")
    list_filter = ("kind", "status", "zone")
    search_fields = ("code", "name")

    def save_model(self, request: HttpRequest, obj: Asset, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "zone" in form.changed_data:
            # Sensors follow their asset's zone, as in asset_update.
            Sensor.all_objects.filter(asset=obj).update(zone=obj.zone)


class SensorForm(forms.ModelForm):
    class Meta:
        model = Sensor
        fields = (
            "code",
            "asset",
            "device",
            "kind",
            "unit",
            "valid_min",
            "valid_max",
            "calibration_factor",
            "calibration_offset",
            "calibrated_on",
            "reference_value",
            "expected_interval_seconds",
            "balance_role",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("valid_min"), data.get("valid_max")
        if low is not None and high is not None and not low < high:
            self.add_error("valid_max", "Must be greater than valid_min.")
        if data.get("calibration_factor") == 0:
            self.add_error("calibration_factor", "Cannot be 0.")
        return data

    def save(self, commit: bool = True) -> Sensor:
        sensor = super().save(commit=False)
        sensor.zone_id = sensor.asset.zone_id
        if commit:
            sensor.save()
        return sensor


@admin.register(Sensor)
class SensorAdmin(ZoneScopedAdmin):
    form = SensorForm
    delete_service = "sensor_delete"
    list_display = ("code", "kind", "unit", "asset", "zone", "device", "is_active")
    list_filter = ("kind", "balance_role", "is_active", "zone")
    search_fields = ("code",)
    readonly_fields = ("zone",)


@admin.register(Device)
class DeviceAdmin(ZoneScopedAdmin):
    zone_field = "asset__zone"
    delete_service = "device_delete"
    list_display = ("code", "name", "asset")
    search_fields = ("code", "name")


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    fk_name = "team"
    fields = ("user", "role")
    extra = 0


class FieldTeamForm(forms.ModelForm):
    class Meta:
        model = FieldTeam
        fields = ("code", "name", "skills", "base_latitude", "base_longitude", "is_available")

    def clean_skills(self) -> list[str]:
        try:
            return services.skills_normalize(list(self.cleaned_data.get("skills") or []))
        except ValidationError as error:
            raise ValidationError(error.message_dict["skills"]) from error


@admin.register(FieldTeam)
class FieldTeamAdmin(PipelineAdmin):
    form = FieldTeamForm
    inlines = (TeamMemberInline,)
    list_display = ("code", "name", "is_available", "last_seen_at")
    list_filter = ("is_available",)
    search_fields = ("code", "name")

    def delete_model(self, request: HttpRequest, obj: FieldTeam) -> None:
        self.delete_queryset(request, FieldTeam.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FieldTeam]) -> None:
        actor = actor_for_user(user=request.user)
        try:
            for team in queryset:
                services.team_delete(actor=actor, team=team)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
