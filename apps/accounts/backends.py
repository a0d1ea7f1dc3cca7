from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class RoleBackend(ModelBackend):
    """Username/password login; permissions come from the user's roles (and superuser)."""

    def get_role_permissions(self, user_obj: Any) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if not hasattr(user_obj, "_role_perm_cache"):
            rows = Permission.objects.filter(
                pk__in=user_obj.roles.values("permissions")
            ).values_list("content_type__app_label", "codename")
            user_obj._role_perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._role_perm_cache

    def get_all_permissions(self, user_obj: Any, obj: object = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return {
                f"{app_label}.{codename}"
                for app_label, codename in Permission.objects.values_list(
                    "content_type__app_label", "codename"
                )
            }
        return self.get_role_permissions(user_obj)
