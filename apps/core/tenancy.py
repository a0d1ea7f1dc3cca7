"""The one seam between Tenantry and django-tenants.

Everything else in the code base asks this module about the current tenant, enters a
tenant's schema, or builds tenant-scoped keys. If the tenancy library changes, only this
module does.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.core.files.storage import FileSystemStorage
from django.db import connection
from django_tenants import utils as tenant_utils
from django_tenants.clone import CLONE_SCHEMA_FUNCTION, CloneSchema
from django_tenants.files.storage import TenantFileSystemStorage

from apps.core.errors import TenantContextMissingError

if TYPE_CHECKING:
    from apps.tenants.models import Tenant

PUBLIC_SCHEMA = "public"


def current_schema() -> str:
    """The schema the default connection is set to (``public`` outside any tenant)."""
    return connection.schema_name


def current_tenant() -> Tenant | None:
    """The tenant the connection is set to, or None in the public schema."""
    tenant = getattr(connection, "tenant", None)
    if tenant is None or connection.schema_name == PUBLIC_SCHEMA:
        return None
    return tenant


def is_public() -> bool:
    return connection.schema_name == PUBLIC_SCHEMA


def require_tenant_schema() -> str:
    """The current tenant schema; fails closed in the public schema."""
    schema_name = connection.schema_name
    if not schema_name or schema_name == PUBLIC_SCHEMA:
        raise TenantContextMissingError()
    return schema_name


@contextmanager
def in_tenant(schema_name: str | None) -> Iterator[None]:
    """Run the block in ``schema_name``. A missing, public or non-existent schema fails
    closed: with a schema that does not exist the search path would fall through to
    public's tables (the operators' users, for one)."""
    if not schema_name or schema_name == PUBLIC_SCHEMA:
        raise TenantContextMissingError()
    if schema_name not in _known_schemas:
        with tenant_utils.schema_context(PUBLIC_SCHEMA):
            if not tenant_utils.schema_exists(schema_name):
                raise TenantContextMissingError(schema_name=schema_name)
        _known_schemas.add(schema_name)
    with tenant_utils.schema_context(schema_name):
        yield


# Schemas seen to exist in this process: a positive answer is cached, a miss never is.
# Hard-deleted tenants' tasks are stopped earlier (apps.jobs.base checks the tenant row).
_known_schemas: set[str] = set()


@contextmanager
def in_public() -> Iterator[None]:
    with tenant_utils.schema_context(PUBLIC_SCHEMA):
        yield


@contextmanager
def in_tenant_object(tenant: Tenant) -> Iterator[None]:
    with tenant_utils.tenant_context(tenant):
        yield


def activate_tenant(tenant: Tenant) -> None:
    """Point the connection at ``tenant`` for the rest of the request (middleware only)."""
    connection.set_tenant(tenant)


def activate_public() -> None:
    connection.set_schema_to_public()


def schema_exists(schema_name: str) -> bool:
    return tenant_utils.schema_exists(schema_name)


def quote_schema(schema_name: str) -> str:
    return tenant_utils.quote_schema_name(schema_name)


def clone_schema(*, source: str, target: str) -> None:
    """Copy ``source`` (tables, sequences, constraints and rows) into a new schema.

    django-tenants re-creates its ~3,000-line PL/pgSQL ``clone_schema`` function before
    every clone, which costs more than the clone of a small schema and grows the server
    process's memory each time. The function is installed once instead, and again only
    when django-tenants ships a different one (its text's digest is kept as the
    function's comment).
    """
    digest = hashlib.md5(CLONE_SCHEMA_FUNCTION.encode(), usedforsecurity=False).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname = 'clone_schema'"
        )
        row = cursor.fetchone()
        if row is None or row[0] != f"tenantry:{digest}":
            CloneSchema()._create_clone_schema_function()  # noqa: SLF001 - its installer
            cursor.execute(
                "COMMENT ON FUNCTION public.clone_schema(text, text, public.cloneparms[]) "
                f"IS 'tenantry:{digest}'"
            )
        cursor.execute("SELECT public.clone_schema(%s, %s, 'DATA')", [source, target])


def drop_schema(schema_name: str) -> None:
    if schema_name == PUBLIC_SCHEMA:
        raise ValueError("The public schema is never dropped.")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema(schema_name)} CASCADE")


def tenant_cache_key(key: str, key_prefix: str, version: int) -> str:
    """Django cache KEY_FUNCTION: every key starts with the current schema."""
    return f"{connection.schema_name}:{key_prefix}:{version}:{key}"


def tenant_key(*parts: object) -> str:
    """A key for non-cache stores (channel groups, locks) that carries the current schema."""
    return ":".join([require_tenant_schema(), *(str(part) for part in parts)])


class TenantLogFilter(logging.Filter):
    """Adds ``schema_name`` to every log record, ``-`` where no connection is set up."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.schema_name = connection.schema_name
        except Exception:  # noqa: BLE001 - logging must never raise
            record.schema_name = "-"
        return True


class TenantFileStorage(TenantFileSystemStorage):
    """Files live under MEDIA_ROOT/<schema_name>/; the public schema has no uploads."""

    @property
    def base_location(self) -> str:
        require_tenant_schema()
        return super().base_location

    def _clear_cached_properties(self, setting: str, **kwargs: object) -> None:
        # django-tenants passes Django's handler the settings object instead of the
        # setting's name, and drops its cached MEDIA_ROOT/MEDIA_URL joins only when
        # MULTITENANT_RELATIVE_MEDIA_ROOT changes: after a MEDIA_ROOT change
        # (override_settings) files kept landing under the old root.
        FileSystemStorage._clear_cached_properties(self, setting, **kwargs)
        super()._clear_cached_properties(setting, **kwargs)
        if setting in {"MEDIA_ROOT", "MEDIA_URL"}:
            self.__dict__.pop("relative_media_root", None)
            self.__dict__.pop("relative_media_url", None)
