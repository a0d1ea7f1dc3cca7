from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from apps.core.tenancy import in_public
from apps.tenants.models import Domain, Tenant, TenantModule


@dataclass(frozen=True)
class ResolvedTenant:
    """What the request path needs to know about a host's tenant; cheap to cache."""

    tenant_id: str
    schema_name: str
    name: str
    kind: str
    status: str
    time_zone: str
    migration_failed: bool
    modules: frozenset[str]

    @property
    def is_public(self) -> bool:
        return self.kind == Tenant.Kind.PUBLIC

    def as_tenant(self) -> Tenant:
        tenant = Tenant(
            id=self.tenant_id,
            schema_name=self.schema_name,
            name=self.name,
            kind=self.kind,
            status=self.status,
            time_zone=self.time_zone,
        )
        tenant._state.adding = False
        return tenant


def _host_cache_key(hostname: str) -> str:
    return f"tenancy:host:{hostname}"


def tenant_for_hostname(*, hostname: str) -> ResolvedTenant | None:
    """The tenant served at ``hostname`` (any status), or None. Cached in Redis.

    Every change to a domain, a tenant's status or its modules goes through
    apps.tenants.services, which drops the cached entries of that tenant's hosts.
    """
    with in_public():
        key = _host_cache_key(hostname)
        cached = cache.get(key)
        if cached is not None:
            return cached or None
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        resolved = _resolve(domain.tenant) if domain is not None else None
        # A miss is cached too (as False), briefly, so unknown hosts cannot hammer the DB.
        timeout = settings.TENANTRY_DOMAIN_CACHE_SECONDS if resolved else 30
        cache.set(key, resolved or False, timeout)
        return resolved


def _resolve(tenant: Tenant) -> ResolvedTenant:
    modules = frozenset(
        TenantModule.objects.filter(tenant=tenant, is_enabled=True).values_list("module", flat=True)
    )
    return ResolvedTenant(
        tenant_id=str(tenant.pk),
        schema_name=tenant.schema_name,
        name=tenant.name,
        kind=tenant.kind,
        status=tenant.status,
        time_zone=tenant.time_zone,
        migration_failed=tenant.migration_status == Tenant.MigrationStatus.FAILED,
        modules=modules,
    )


def tenant_hostnames_forget(*, hostnames: list[str]) -> None:
    with in_public():
        cache.delete_many([_host_cache_key(hostname) for hostname in hostnames])


def tenant_list_business(*, status: str | None = None) -> QuerySet[Tenant]:
    tenants = Tenant.objects.filter(kind=Tenant.Kind.BUSINESS)
    if status is not None:
        tenants = tenants.filter(status=status)
    return tenants


def tenant_list_with_module(*, module: str) -> QuerySet[Tenant]:
    """Active business tenants that have ``module`` switched on (for scheduled work)."""
    return tenant_list_business(status=Tenant.Status.ACTIVE).filter(
        modules__module=module, modules__is_enabled=True
    )


def tenant_has_module(*, tenant: Tenant, module: str) -> bool:
    return TenantModule.objects.filter(tenant=tenant, module=module, is_enabled=True).exists()


def tenant_migratable_schemas() -> list[str]:
    """Every schema migrate must keep current: businesses (any status) and the template."""
    return list(
        Tenant.objects.exclude(kind=Tenant.Kind.PUBLIC)
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
