"""Admin for pipeline ingestion: device keys (read-only; the hash is never editable, new
keys come from the API, which shows the raw key once; a revoke action goes through the
service) and ingested batches (read-only). Tenant hosts with the pipeline module only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.selectors import actor_for_user
from apps.core.admin import TenantOnlyAdmin
from apps.core.errors import ApplicationError
from apps.core.modules import module_enabled
from apps.pipeline.models import DeviceKey, IngestBatch
from apps.pipeline.services import ingestion as services


class IngestionAdmin(TenantOnlyAdmin):
    """Read-only, and only while the tenant has the pipeline module."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return module_enabled(request, "pipeline") and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return module_enabled(request, "pipeline") and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DeviceKey)
class DeviceKeyAdmin(IngestionAdmin):
    list_display = ("prefix", "device", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "device__code")
    list_select_related = ("device",)
    readonly_fields = (
        "device",
        "prefix",
        "secret_hash",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    fields = readonly_fields
    actions = ["revoke"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return module_enabled(request, "pipeline") and request.user.has_perm(services.PERM_REVOKE)

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[DeviceKey]) -> None:
        actor = actor_for_user(user=request.user)
        revoked = 0
        try:
            for key in queryset:
                if key.revoked_at is None:
                    services.device_key_revoke(actor=actor, key=key)
                    revoked += 1
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return
        self.message_user(request, f"{revoked} key(s) revoked.", level=messages.SUCCESS)


@admin.register(IngestBatch)
class IngestBatchAdmin(IngestionAdmin):
    list_display = (
        "batch_id",
        "device",
        "received_at",
        "accepted_count",
        "rejected_count",
        "duplicate_count",
    )
    search_fields = ("batch_id", "device__code")
    list_select_related = ("device",)
    date_hierarchy = "received_at"
    readonly_fields = (
        "device",
        "batch_id",
        "content_hash",
        "received_at",
        "accepted_count",
        "rejected_count",
        "duplicate_count",
        "rejections",
    )
    fields = readonly_fields
