"""Built-in roles, seeded in every tenant schema and kept in sync after migrate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q

from apps.accounts.models import Role

# slug -> (name, description, rule). A rule picks permission rows by codename pattern.
BUILTIN_ROLES: dict[str, tuple[str, str, str]] = {
    "tenant_admin": ("Tenant admin", "Everything inside this tenant.", "all"),
    "manager": ("Manager", "Reads everything; approves and manages day-to-day work.", "manage"),
    "staff": ("Staff", "Day-to-day work on their own records.", "view"),
    "viewer": ("Viewer", "Read-only access.", "view"),
}

# Platform internals no tenant role should touch.
PLATFORM_APP_LABELS = (
    "tenants",
    "sessions",
    "contenttypes",
    "token_blacklist",
    "admin",
    "django_celery_beat",
)
# Administration a plain reader has no business seeing: who did what, users and roles,
# scheduled automation, delivery logs.
ADMIN_ONLY_APP_LABELS = ("auditlog", "accounts", "schedules", "notifications")


def _permissions_for(rule: str) -> Any:
    permissions = Permission.objects.exclude(content_type__app_label__in=PLATFORM_APP_LABELS)
    if rule == "all":
        return permissions
    if rule == "manage":
        return permissions.filter(
            Q(codename__startswith="view_") | Q(codename__startswith="approve_")
        )
    return permissions.filter(codename__startswith="view_").exclude(
        content_type__app_label__in=ADMIN_ONLY_APP_LABELS
    )


def builtin_roles_sync() -> list[Role]:
    """Create missing built-in roles and give them their permissions; idempotent.

    Permissions are only ever added: a tenant admin who removed one from a built-in
    role keeps it removed until the next platform migration adds new permissions.
    """
    roles = []
    for slug, (name, description, rule) in BUILTIN_ROLES.items():
        role, created = Role.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "is_builtin": True}
        )
        if created or rule == "all":
            role.permissions.add(*_permissions_for(rule))
        roles.append(role)
    return roles


def builtin_roles_sync_after_migrate(*, app_config: Any, **kwargs: Any) -> None:
    from django.apps import apps

    from apps.core.tenancy import is_public

    # post_migrate fires once per app and permissions are created app by app: wait for
    # the last app so every permission row exists.
    app_configs = list(apps.get_app_configs())
    if app_config is app_configs[-1] and not is_public():
        # This receiver may run before auth's own for the last app: create every app's
        # permission rows first (idempotent) so no app's permissions are missed.
        from django.contrib.auth.management import create_permissions

        for config in app_configs:
            create_permissions(config, verbosity=0, using=kwargs.get("using", "default"))
        builtin_roles_sync()
