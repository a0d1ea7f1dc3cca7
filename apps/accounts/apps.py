from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.accounts import roles, schema  # noqa: F401 - registers the OpenAPI auth scheme
        from apps.accounts.models import Role, ScopeGrant, User

        auditlog.register(User, exclude_fields=["password", "last_login", "updated_at"])
        auditlog.register(Role, m2m_fields={"permissions"}, exclude_fields=["updated_at"])
        auditlog.register(ScopeGrant)

        # Built-in roles need the permission rows Django creates after migrate, so they
        # are (re)synced after every migrate of a schema — the template included, from
        # which every new tenant is cloned.
        post_migrate.connect(roles.builtin_roles_sync_after_migrate)
