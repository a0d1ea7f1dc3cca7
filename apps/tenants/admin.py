from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.admin import PublicOnlyAdmin
from apps.core.errors import ApplicationError
from apps.tenants import services
from apps.tenants.models import Domain, Tenant, TenantModule


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class TenantModuleInline(admin.TabularInline):
    model = TenantModule
    extra = 0


@admin.register(Tenant)
class TenantAdmin(PublicOnlyAdmin):
    list_display = ("name", "schema_name", "kind", "status", "migration_status", "created_at")
    list_filter = ("status", "kind", "migration_status")
    search_fields = ("name", "schema_name", "domains__domain")
    readonly_fields = (
        "schema_name",
        "kind",
        "status",
        "suspended_at",
        "deleted_at",
        "migration_status",
        "migration_error",
        "migrated_at",
    )
    inlines = [DomainInline, TenantModuleInline]
    actions = ["suspend", "reactivate", "soft_delete", "hard_delete"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # New tenants need a schema and a first admin: `manage.py create_tenant`.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Deleting is the soft/hard delete actions, never a bare row delete.
        return False

    def save_related(self, request, form, formsets, change) -> None:
        # Domain and module edits change what the host cache must answer: forget the hosts
        # the tenant had before the inlines are saved too, or a renamed or removed domain
        # keeps being served from the cache. Forgotten after commit, as the services do, so
        # a request in between cannot cache the old rows again.
        hostnames = list(form.instance.domains.values_list("domain", flat=True))
        super().save_related(request, form, formsets, change)
        hostnames += form.instance.domains.values_list("domain", flat=True)
        transaction.on_commit(lambda: services.tenant_hostnames_forget(hostnames=hostnames))

    def _apply(self, request: HttpRequest, queryset: QuerySet, action, label: str) -> None:
        for tenant in queryset.filter(kind=Tenant.Kind.BUSINESS):
            try:
                action(tenant=tenant)
            except ApplicationError as error:
                self.message_user(request, f"{tenant}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{tenant}: {label}.", messages.SUCCESS)

    @admin.action(description="Suspend (hosts answer 403)")
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.tenant_suspend, "suspended")

    @admin.action(description="Reactivate")
    def reactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.tenant_reactivate, "reactivated")

    @admin.action(description="Soft delete (hosts answer 404, schema kept)")
    def soft_delete(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.tenant_soft_delete, "soft-deleted")

    @admin.action(description="Hard delete: DROP the schema (soft-deleted tenants only)")
    def hard_delete(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        tenants = list(queryset.filter(kind=Tenant.Kind.BUSINESS))
        if request.POST.get("confirmed") != "yes":
            return render(
                request,
                "admin/tenants/hard_delete_confirm.html",
                {"tenants": tenants, "opts": self.model._meta, "title": "Drop tenant schemas"},
            )
        for tenant in tenants:
            confirmation = request.POST.get(f"confirm_{tenant.pk}", "")
            try:
                services.tenant_hard_delete(tenant=tenant, confirm_schema_name=confirmation)
            except ApplicationError as error:
                self.message_user(request, f"{tenant}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{tenant}: schema dropped.", messages.SUCCESS)
        return None


@admin.register(Domain)
class DomainAdmin(PublicOnlyAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)

    def save_model(self, request, obj, form, change) -> None:
        hostnames = [obj.domain]
        if change:
            old = Domain.objects.filter(pk=obj.pk).values_list("domain", flat=True).first()
            if old:
                hostnames.append(old)
        super().save_model(request, obj, form, change)
        transaction.on_commit(lambda: services.tenant_hostnames_forget(hostnames=hostnames))

    def delete_model(self, request, obj) -> None:
        services.domain_remove(domain=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        # The changelist's "delete selected" action bypasses delete_model.
        for domain in queryset:
            services.domain_remove(domain=domain)
