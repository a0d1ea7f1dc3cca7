"""Tenants made inside a test: provisioned by the production clone path in the test's
transaction, so pytest-django's rollback drops their schema and rows again."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.test import Client

from apps.core import tenancy
from apps.tenants.models import Tenant
from apps.tenants.services import tenant_create
from tests.personas import PASSWORD

FIRST_ADMIN = "first-admin"
HEALTH_PATH = "/api/v1/health/"


def tenant_provision(*, schema_name: str, modules: Sequence[str] = ()) -> Tenant:
    tenant = tenant_create(
        schema_name=schema_name,
        name=f"Tenant {schema_name}",
        domain=host_of(schema_name),
        admin_username=FIRST_ADMIN,
        admin_password=PASSWORD,
        modules=modules,
    ).tenant
    deferred_checks_run_now()
    return tenant


def host_of(schema_name: str) -> str:
    return f"{schema_name}.localhost"


def host_status(host: str, path: str = HEALTH_PATH) -> int:
    """Status of an anonymous GET on ``host``: 200 while the host serves its tenant."""
    return Client().get(path, HTTP_HOST=host).status_code


def schema_tables(schema_name: str) -> list[str]:
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            [schema_name],
        )
        return [row[0] for row in cursor.fetchall()]


def schema_names() -> list[str]:
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace ORDER BY nspname")
        return [row[0] for row in cursor.fetchall()]


def deferred_checks_run_now() -> None:
    """Run the deferred FK checks of this (test) transaction's writes now, and from now on.

    A tenant provisioned inside a test wrote its first admin's audit rows in the test's
    transaction; while their deferred checks are pending, PostgreSQL refuses to ALTER or
    DROP those tables ("pending trigger events"). In production the tenant was committed
    long before anyone migrates or drops it.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
