"""Admin for pipeline incidents (registered on import by apps.pipeline.admin).

Incidents are read-only here, scoped to the zones the admin user may see; the
acknowledge action goes through the service (state machine, timeline, realtime).
Escalation policies are changed through the API, which validates levels and loops;
the admin shows them with their levels. Timeline and offers are read-only inlines."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.selectors import actor_for_user
from apps.core.errors import ApplicationError
from apps.pipeline.models import (
    DispatchOffer,
    EscalationLevel,
    EscalationPolicy,
    Incident,
    IncidentEscalation,
    IncidentEvent,
)
from apps.pipeline.selectors.network import zone_scope_filter
from apps.pipeline.services import incidents as services


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class IncidentEventInline(ReadOnlyInline):
    model = IncidentEvent
    fields = ("at", "kind", "actor", "message", "data")
    readonly_fields = fields


class DispatchOfferInline(ReadOnlyInline):
    model = DispatchOffer
    fk_name = "incident"
    fields = ("team", "status", "distance_km", "offered_at", "respond_by", "responded_at")
    readonly_fields = fields


class IncidentEscalationInline(ReadOnlyInline):
    model = IncidentEscalation
    fields = ("policy", "level", "escalated_at", "recipient_ids")
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "title",
        "severity",
        "status",
        "source",
        "zone",
        "assigned_team",
        "escalation_level",
        "opened_at",
    )
    list_filter = ("status", "severity", "source")
    search_fields = ("number", "title")
    list_select_related = ("zone", "assigned_team")
    inlines = [DispatchOfferInline, IncidentEscalationInline, IncidentEventInline]
    actions = ["acknowledge"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Incident]:
        queryset = super().get_queryset(request)
        return zone_scope_filter(queryset, actor=actor_for_user(user=request.user))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [field.name for field in Incident._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Acknowledge (stops escalation)")
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        actor = actor_for_user(user=request.user)
        done = 0
        for incident in queryset:
            try:
                services.incident_acknowledge(actor=actor, incident=incident)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{incident.number}: {error.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} incident(s) acknowledged.")


class EscalationLevelInline(admin.TabularInline):
    model = EscalationLevel
    extra = 0
    fields = ("level", "delay_minutes", "users", "roles")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "severity", "is_active", "then_policy")
    list_filter = ("severity", "is_active")
    search_fields = ("name",)
    inlines = [EscalationLevelInline]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("name", "severity", "is_active", "then_policy")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: EscalationPolicy) -> None:
        services.escalation_policy_delete(actor=actor_for_user(user=request.user), policy=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[EscalationPolicy]) -> None:
        actor = actor_for_user(user=request.user)
        for policy in queryset:
            services.escalation_policy_delete(actor=actor, policy=policy)
