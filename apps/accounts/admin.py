from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.models import Role, ScopeGrant, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    # Operators (public) and tenant users share the model but never a table.
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:2],
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "roles")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    filter_horizontal = ("roles",)
    list_display = ("username", "email", "is_active", "is_staff")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_builtin")
    filter_horizontal = ("permissions",)
    search_fields = ("name", "slug")

    def has_module_permission(self, request) -> bool:
        from apps.core.tenancy import is_public

        return not is_public() and super().has_module_permission(request)


@admin.register(ScopeGrant)
class ScopeGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "scope_type", "scope_value")
    list_filter = ("scope_type",)
