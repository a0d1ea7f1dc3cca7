import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """A business on the platform: one PostgreSQL schema. Lives in the public schema."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        DELETED = "deleted"

    class Kind(models.TextChoices):
        PUBLIC = "public", "Platform (public schema)"
        TEMPLATE = "template", "Provisioning template"
        BUSINESS = "business", "Business"

    class MigrationStatus(models.TextChoices):
        OK = "ok"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BUSINESS)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    migration_status = models.CharField(
        max_length=16, choices=MigrationStatus.choices, default=MigrationStatus.OK
    )
    migration_error = models.TextField(blank=True)
    migrated_at = models.DateTimeField(null=True, blank=True)

    # Schemas are created and dropped only by apps.tenants.services, never as a save side effect.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.schema_name})"


class Domain(DomainMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    def __str__(self) -> str:
        return self.domain


class TenantModule(models.Model):
    """A business module switched on (or off) for one tenant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="modules")
    module = models.CharField(
        max_length=32, choices=[(name, name) for name in settings.TENANTRY_MODULES]
    )
    is_enabled = models.BooleanField(default=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "module"], name="tenants_module_once")
        ]
        ordering = ["module"]

    def __str__(self) -> str:
        state = "on" if self.is_enabled else "off"
        return f"{self.module}: {state}"
