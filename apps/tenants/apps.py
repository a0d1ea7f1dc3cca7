from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "apps.tenants"
    label = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.tenants.models import Domain, Tenant, TenantModule

        auditlog.register(Tenant, exclude_fields=["updated_at"])
        auditlog.register(Domain)
        auditlog.register(TenantModule)
