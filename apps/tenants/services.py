"""Tenant lifecycle: create (cloned from the template), suspend, reactivate, delete."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from apps.core import tenancy
from apps.tenants import migrations_state
from apps.tenants.errors import (
    TenantAlreadyExistsError,
    TenantSchemaNameInvalidError,
    TenantStateError,
    UnknownModuleError,
)
from apps.tenants.models import Domain, Tenant, TenantModule
from apps.tenants.schema_clone import schema_clone
from apps.tenants.selectors import tenant_hostnames_forget  # noqa: F401 - used by admin

SCHEMA_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{2,49}$")
RESERVED_SCHEMAS = {"public", "information_schema", "pg_catalog", "pg_toast"}


def template_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


def _forget_hosts(tenant: Tenant) -> None:
    tenant_hostnames_forget(hostnames=list(tenant.domains.values_list("domain", flat=True)))


@transaction.atomic
def public_tenant_ensure(*, domain: str) -> Tenant:
    """The platform's own row: the public schema, served at the operators' bare host."""
    with tenancy.in_public():
        tenant, _ = Tenant.objects.get_or_create(
            schema_name=tenancy.PUBLIC_SCHEMA,
            defaults={"name": "Tenantry platform", "kind": Tenant.Kind.PUBLIC},
        )
        Domain.objects.get_or_create(domain=domain, defaults={"tenant": tenant, "is_primary": True})
        tenant_hostnames_forget(hostnames=[domain])
        return tenant


def template_ensure(*, verbosity: int = 0) -> Tenant:
    """Create and fully migrate the template schema once; later runs only check it.

    The template is a Tenant row of kind ``template`` with no domain, so
    ``migrate_schemas`` and ``migrate_tenants`` keep it current like any tenant.
    """
    template, _fingerprint = _template_ready(verbosity=verbosity)
    return template


def _template_ready(*, verbosity: int = 0) -> tuple[Tenant, str | None]:
    """The template, migrated if it was behind, and its migration fingerprint."""
    with tenancy.in_public():
        template = Tenant.objects.filter(schema_name=template_schema_name()).first()
        if template is None:
            template = Tenant.objects.create(
                schema_name=template_schema_name(),
                name="Provisioning template",
                kind=Tenant.Kind.TEMPLATE,
            )
        fingerprint = migrations_state.schema_fingerprints([template.schema_name]).get(
            template.schema_name
        )
        if fingerprint == migrations_state.code_fingerprint():
            return template, fingerprint
        if not tenancy.schema_exists(template.schema_name):
            _schema_create_by_migrating(template.schema_name, verbosity=verbosity)
        else:
            call_command(
                "migrate_schemas",
                schema_name=template.schema_name,
                interactive=False,
                verbosity=verbosity,
            )
        fingerprint = migrations_state.schema_fingerprints([template.schema_name]).get(
            template.schema_name
        )
        return template, fingerprint


def _schema_create_by_migrating(schema_name: str, *, verbosity: int = 0) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {tenancy.quote_schema(schema_name)}")
    call_command(
        "migrate_schemas",
        schema_name=schema_name,
        tenant=True,
        interactive=False,
        verbosity=verbosity,
    )


@dataclass(frozen=True)
class ProvisioningResult:
    tenant: Tenant
    seconds: float
    method: str


def _normalize_domain(domain: str) -> str:
    # The middleware looks hosts up lower-cased and without a trailing dot; a domain stored
    # any other way would never be served, and would slip past the duplicate check.
    return domain.strip().lower().rstrip(".")


def _validate_new_tenant(schema_name: str, domain: str) -> None:
    if not SCHEMA_NAME_RE.match(schema_name) or schema_name in RESERVED_SCHEMAS:
        raise TenantSchemaNameInvalidError(schema_name=schema_name)
    if schema_name.startswith("pg_") or schema_name == template_schema_name():
        raise TenantSchemaNameInvalidError(schema_name=schema_name)
    if Tenant.objects.filter(schema_name=schema_name).exists() or tenancy.schema_exists(
        schema_name
    ):
        raise TenantAlreadyExistsError(schema_name=schema_name)
    if Domain.objects.filter(domain=domain).exists():
        raise TenantAlreadyExistsError(domain=domain)


def tenant_create(
    *,
    schema_name: str,
    name: str,
    domain: str,
    admin_username: str,
    admin_password: str | None,
    admin_email: str = "",
    modules: Sequence[str] = (),
    time_zone: str = "UTC",
    method: str = "clone",
) -> ProvisioningResult:
    """Provision a tenant: schema (cloned from the template), primary domain, first admin.

    ``method="migrate"`` runs every migration instead; it exists to measure the clone
    against, and is what happens when the template could not be brought up to date.
    Everything happens in one transaction: a failure leaves no schema, no row.
    """
    unknown = sorted(set(modules) - set(settings.TENANTRY_MODULES))
    if unknown:
        raise UnknownModuleError(modules=unknown)
    domain = _normalize_domain(domain)
    started = time.perf_counter()
    with tenancy.in_public():
        _validate_new_tenant(schema_name, domain)
        if method == "clone":
            template, fingerprint = _template_ready()
            template_is_current = fingerprint == migrations_state.code_fingerprint()
        with transaction.atomic():
            tenant = Tenant.objects.create(
                schema_name=schema_name, name=name, time_zone=time_zone, migrated_at=timezone.now()
            )
            if method == "clone" and template_is_current:
                schema_clone(source=template.schema_name, target=schema_name, state=fingerprint)
            else:
                _schema_create_by_migrating(schema_name)
                tenancy.activate_public()
            Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
            TenantModule.objects.bulk_create(
                [TenantModule(tenant=tenant, module=module) for module in dict.fromkeys(modules)]
            )
            with tenancy.in_tenant(schema_name):
                _tenant_first_admin_create(
                    username=admin_username, password=admin_password, email=admin_email
                )
    tenant_hostnames_forget(hostnames=[domain])
    return ProvisioningResult(tenant=tenant, seconds=time.perf_counter() - started, method=method)


def _tenant_first_admin_create(*, username: str, password: str | None, email: str) -> None:
    from apps.accounts.roles import builtin_roles_sync
    from apps.accounts.services import ADMIN_ROLE, user_create

    builtin_roles_sync()
    user_create(actor=None, username=username, password=password, email=email, roles=[ADMIN_ROLE])


def _tenant_for_update(tenant: Tenant) -> Tenant:
    return Tenant.objects.select_for_update().get(pk=tenant.pk, kind=Tenant.Kind.BUSINESS)


@transaction.atomic
def tenant_suspend(*, tenant: Tenant) -> Tenant:
    """Its hosts answer 403 ``tenant_suspended``; nothing is removed."""
    tenant = _tenant_for_update(tenant)
    if tenant.status != Tenant.Status.ACTIVE:
        raise TenantStateError(status=tenant.status)
    tenant.status = Tenant.Status.SUSPENDED
    tenant.suspended_at = timezone.now()
    tenant.save(update_fields=["status", "suspended_at", "updated_at"])
    transaction.on_commit(lambda: _forget_hosts(tenant))
    return tenant


@transaction.atomic
def tenant_reactivate(*, tenant: Tenant) -> Tenant:
    tenant = _tenant_for_update(tenant)
    if tenant.status not in (Tenant.Status.SUSPENDED, Tenant.Status.DELETED):
        raise TenantStateError(status=tenant.status)
    tenant.status = Tenant.Status.ACTIVE
    tenant.suspended_at = None
    tenant.deleted_at = None
    tenant.save(update_fields=["status", "suspended_at", "deleted_at", "updated_at"])
    transaction.on_commit(lambda: _forget_hosts(tenant))
    return tenant


@transaction.atomic
def tenant_soft_delete(*, tenant: Tenant) -> Tenant:
    """Its hosts answer 404; the schema and its data stay until a hard delete."""
    tenant = _tenant_for_update(tenant)
    if tenant.status == Tenant.Status.DELETED:
        raise TenantStateError(status=tenant.status)
    tenant.status = Tenant.Status.DELETED
    tenant.deleted_at = timezone.now()
    tenant.save(update_fields=["status", "deleted_at", "updated_at"])
    transaction.on_commit(lambda: _forget_hosts(tenant))
    return tenant


@transaction.atomic
def tenant_hard_delete(*, tenant: Tenant, confirm_schema_name: str) -> None:
    """Drop the schema and every row of the tenant. Only for soft-deleted tenants, and only
    when the caller repeats the schema name: this cannot be undone."""
    tenant = _tenant_for_update(tenant)
    if tenant.status != Tenant.Status.DELETED:
        raise TenantStateError("Soft-delete the tenant first.", status=tenant.status)
    if confirm_schema_name != tenant.schema_name:
        raise TenantStateError("The confirmation does not match the schema name.")
    hostnames = list(tenant.domains.values_list("domain", flat=True))
    # Its beat entries live in public and would otherwise outlive the schema.
    from apps.schedules.services import beat_entries_delete_for_schema

    beat_entries_delete_for_schema(schema_name=tenant.schema_name)
    tenancy.drop_schema(tenant.schema_name)
    tenant.delete()
    transaction.on_commit(lambda: tenant_hostnames_forget(hostnames=hostnames))


@transaction.atomic
def tenant_module_set(*, tenant: Tenant, module: str, is_enabled: bool) -> TenantModule:
    if module not in settings.TENANTRY_MODULES:
        raise UnknownModuleError(module=module)
    switch, _ = TenantModule.objects.update_or_create(
        tenant=tenant, module=module, defaults={"is_enabled": is_enabled}
    )
    transaction.on_commit(lambda: _forget_hosts(tenant))
    return switch


@transaction.atomic
def domain_add(*, tenant: Tenant, domain: str, is_primary: bool = False) -> Domain:
    domain = _normalize_domain(domain)
    if Domain.objects.filter(domain=domain).exists():
        raise TenantAlreadyExistsError(domain=domain)
    created = Domain.objects.create(tenant=tenant, domain=domain, is_primary=is_primary)
    transaction.on_commit(lambda: tenant_hostnames_forget(hostnames=[domain]))
    return created


@transaction.atomic
def domain_remove(*, domain: Domain) -> None:
    hostname = domain.domain
    domain.delete()
    transaction.on_commit(lambda: tenant_hostnames_forget(hostnames=[hostname]))


def tenant_hosts_forget(*, tenant: Tenant) -> None:
    """Drop cached host lookups of ``tenant`` (after admin edits of domains or modules)."""
    _forget_hosts(tenant)
