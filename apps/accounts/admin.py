from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest

from apps.accounts.models import Role, ScopeGrant, User
from apps.accounts.selectors import tenant_admins_remaining_without
from apps.accounts.services import ADMIN_ROLE
from apps.core.admin import TenantOnlyAdmin
from apps.core.tenancy import is_public


class TenantUserChangeForm(UserChangeForm):
    """The admin keeps the same rule as the API: a tenant always keeps one active admin."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.instance
        if is_public() or user._state.adding:
            return cleaned
        was_admin = user.roles.filter(slug=ADMIN_ROLE).exists()
        roles = cleaned.get("roles")
        stays_admin = (
            roles.filter(slug=ADMIN_ROLE).exists() if roles is not None else was_admin
        ) and cleaned.get("is_active", user.is_active)
        if was_admin and not stays_admin and not tenant_admins_remaining_without(user):
            raise forms.ValidationError(
                "The last tenant admin cannot lose the role or be deactivated.",
                code="accounts.last_admin",
            )
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    # Operators (public) and tenant users share the model but never a table.
    form = TenantUserChangeForm
    filter_horizontal = ("roles",)
    list_display = ("username", "email", "is_active", "is_staff")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return super().get_fieldsets(request, obj)
        if is_public():
            access = ("is_active", "is_staff", "is_superuser")
        else:
            # Inside a tenant, access is roles; superuser flags belong to operators.
            access = ("is_active", "is_staff", "roles")
        return (
            *DjangoUserAdmin.fieldsets[:2],
            ("Access", {"fields": access}),
            ("Dates", {"fields": ("last_login", "date_joined")}),
        )


@admin.register(Role)
class RoleAdmin(TenantOnlyAdmin):
    list_display = ("name", "slug", "is_builtin")
    filter_horizontal = ("permissions",)
    search_fields = ("name", "slug")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ScopeGrant)
class ScopeGrantAdmin(TenantOnlyAdmin):
    list_display = ("user", "scope_type", "scope_value")
    list_filter = ("scope_type",)
