"""Migrate public, the template and every tenant — skipping schemas already current.

    manage.py migrate_tenants            # only what is behind
    manage.py migrate_tenants --all      # every schema, like migrate_schemas

Each tenant is migrated on its own: one failure is reported and marks that tenant
``migration_status=failed`` (its hosts answer 503) while the others carry on. Exit
status is 1 when any tenant failed.

Like ``migrate``, the command runs the system checks before it migrates anything
(``--skip-checks`` leaves them out); when every schema is already current it migrates
nothing and leaves them out as well, since they guard the migration, not the code.
"""

from __future__ import annotations

import time
import traceback

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from apps.core import tenancy
from apps.tenants import migrations_state
from apps.tenants.models import Tenant
from apps.tenants.selectors import tenant_hostnames_forget, tenant_migratable_schemas
from apps.tenants.services import public_tenant_ensure


class Command(BaseCommand):
    help = "Migrate public and tenant schemas, skipping those already at the current state."
    # Run in handle(), and only when something is to be migrated (see the module docstring).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Migrate every schema.")
        parser.add_argument("--skip-public", action="store_true")
        parser.add_argument(
            "--skip-checks", action="store_true", help="Skip the system checks before migrating."
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        verbosity = options["verbosity"]

        public_is_due = not options["skip_public"] and (
            options["all"] or migrations_state.schema_is_stale(tenancy.PUBLIC_SCHEMA)
        )
        checked = False
        if public_is_due:
            checked = self._check(options)
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        if not options["skip_public"]:
            # The operators' host must resolve on a brand-new database too.
            public_tenant_ensure(domain=settings.TENANTRY_BASE_DOMAIN)

        schemas = tenant_migratable_schemas()
        stale = schemas if options["all"] else migrations_state.stale_schemas(schemas)
        if stale and not checked:
            self._check(options)
        failed: dict[str, str] = {}
        for schema_name in stale:
            try:
                call_command(
                    "migrate_schemas",
                    schema_name=schema_name,
                    tenant=True,
                    interactive=False,
                    verbosity=max(verbosity - 1, 0),
                )
            except Exception as error:  # noqa: BLE001 - reported per tenant, then summarised
                failed[schema_name] = f"{type(error).__name__}: {error}"
                self.stderr.write(f"FAILED {schema_name}: {failed[schema_name]}")
                if verbosity > 1:
                    self.stderr.write(traceback.format_exc())
            else:
                self.stdout.write(f"migrated {schema_name}") if verbosity else None

        tenancy.activate_public()
        self._record(stale, failed)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{len(schemas)} schemas: {len(stale) - len(failed)} migrated, "
            f"{len(schemas) - len(stale)} already current, {len(failed)} failed "
            f"({elapsed:.2f}s)"
        )
        if failed:
            raise CommandError(f"{len(failed)} tenant(s) failed: {', '.join(sorted(failed))}")

    def _check(self, options) -> bool:
        if not options["skip_checks"]:
            self.check(databases=[DEFAULT_DB_ALIAS])
        return True

    def _record(self, migrated: list[str], failed: dict[str, str]) -> None:
        now = timezone.now()
        succeeded = [schema for schema in migrated if schema not in failed]
        Tenant.objects.filter(schema_name__in=succeeded).update(
            migration_status=Tenant.MigrationStatus.OK, migration_error="", migrated_at=now
        )
        for schema_name, error in failed.items():
            Tenant.objects.filter(schema_name=schema_name).update(
                migration_status=Tenant.MigrationStatus.FAILED, migration_error=error[:4000]
            )
        changed = Tenant.objects.filter(schema_name__in=migrated).prefetch_related("domains")
        tenant_hostnames_forget(
            hostnames=[domain.domain for tenant in changed for domain in tenant.domains.all()]
        )
