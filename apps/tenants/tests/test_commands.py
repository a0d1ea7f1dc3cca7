import re
from io import StringIO

import pytest
from django.core.management import BaseCommand, CommandError, call_command, get_commands
from django.core.management.base import SystemCheckError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from apps.accounts.models import User
from apps.core import tenancy
from apps.tenants import migrations_state
from apps.tenants.management.commands.create_tenant import Command as CreateTenantCommand
from apps.tenants.management.commands.migrate_tenants import Command as MigrateTenantsCommand
from apps.tenants.models import Domain, Tenant
from apps.tenants.selectors import tenant_migratable_schemas
from apps.tenants.tests.factories import host_status, tenant_provision
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

# The newest auditlog migration only adds a column: undoing it by hand makes a schema
# stale; forgetting only its row makes the next migrate fail on the existing column.
STALE_APP, STALE_MIGRATION = "auditlog", "0017_add_actor_email"


def _run(*args: str | BaseCommand) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _forget_last_migration(schema_name: str, *, undo_it: bool) -> None:
    schema = tenancy.quote_schema(schema_name)
    with tenancy.in_public(), connection.cursor() as cursor:
        if undo_it:
            cursor.execute(f"ALTER TABLE {schema}.auditlog_logentry DROP COLUMN actor_email")
        cursor.execute(
            f"DELETE FROM {schema}.django_migrations WHERE app = %s AND name = %s",  # noqa: S608
            [STALE_APP, STALE_MIGRATION],
        )


def _has_actor_email(schema_name: str) -> bool:
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'auditlog_logentry' AND column_name = 'actor_email'",
            [schema_name],
        )
        return cursor.fetchone() is not None


def _summary(*, total: int, migrated: int, current: int, failed: int) -> str:
    return (
        rf"{total} schemas: {migrated} migrated, {current} already current, "
        rf"{failed} failed \(\d+\.\d\ds\)\n"
    )


# --- migrate_tenants ------------------------------------------------------------------------


def test_migrate_tenants_with_nothing_to_do_migrates_nothing():
    total = len(tenant_migratable_schemas())
    migrated_at_before = dict(Tenant.objects.values_list("schema_name", "migrated_at"))

    out, err = _run("migrate_tenants")

    assert re.fullmatch(_summary(total=total, migrated=0, current=total, failed=0), out)
    assert err == ""
    assert dict(Tenant.objects.values_list("schema_name", "migrated_at")) == migrated_at_before


def _run_as_manage_py(*args: str) -> str:
    # call_command() skips the checks unless told otherwise; manage.py does not.
    out = StringIO()
    call_command("migrate_tenants", *args, skip_checks="--skip-checks" in args, stdout=out)
    return out.getvalue()


def _record_checks(monkeypatch, *, error: str = "") -> list[dict]:
    calls: list[dict] = []

    def check(self, **kwargs):
        calls.append(kwargs)
        if error:
            raise SystemCheckError(error)

    monkeypatch.setattr(MigrateTenantsCommand, "check", check)
    return calls


def test_migrate_tenants_with_nothing_to_do_leaves_out_the_system_checks(monkeypatch):
    checks = _record_checks(monkeypatch)

    _run_as_manage_py()

    assert checks == []


def test_migrate_tenants_runs_the_system_checks_before_migrating(monkeypatch, gamma):
    _forget_last_migration("gamma", undo_it=True)
    checks = _record_checks(monkeypatch, error="a check failed")

    with pytest.raises(SystemCheckError):
        _run_as_manage_py()

    assert checks == [{"databases": ["default"]}]
    assert not _has_actor_email("gamma")


def test_migrate_tenants_skip_checks_migrates_without_them(monkeypatch, gamma):
    _forget_last_migration("gamma", undo_it=True)
    checks = _record_checks(monkeypatch, error="a check failed")

    out = _run_as_manage_py("--skip-checks")

    assert checks == []
    assert out.startswith("migrated gamma\n")


def test_code_fingerprint_lists_the_migrations_django_loads():
    loader = MigrationLoader(None, ignore_no_migrations=True, load=False)
    loader.load_disk()

    assert migrations_state.disk_migration_names() == set(loader.disk_migrations)


def test_migrate_tenants_migrates_only_the_stale_schema(gamma):
    _forget_last_migration("gamma", undo_it=True)
    total = len(tenant_migratable_schemas())
    migrated_at_before = dict(Tenant.objects.values_list("schema_name", "migrated_at"))

    out, err = _run("migrate_tenants")

    assert re.fullmatch(
        "migrated gamma\n" + _summary(total=total, migrated=1, current=total - 1, failed=0), out
    )
    assert err == ""
    assert _has_actor_email("gamma")
    assert migrations_state.stale_schemas(tenant_migratable_schemas()) == []
    migrated_at_after = dict(Tenant.objects.values_list("schema_name", "migrated_at"))
    assert migrated_at_after.pop("gamma") > migrated_at_before.pop("gamma")
    assert migrated_at_after == migrated_at_before


def test_migrate_tenants_reports_a_failed_tenant_and_migrates_the_others():
    # "broken" sorts before "delta": the healthy tenant is migrated after the failure.
    broken = tenant_provision(schema_name="broken")
    delta = tenant_provision(schema_name="delta")
    _forget_last_migration("broken", undo_it=False)
    _forget_last_migration("delta", undo_it=True)
    assert host_status("broken.localhost") == 200  # the lookup is now cached
    total = len(tenant_migratable_schemas())
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("migrate_tenants", stdout=out, stderr=err)

    error = 'ProgrammingError: column "actor_email" of relation "auditlog_logentry" already exists'
    assert str(raised.value) == "1 tenant(s) failed: broken"
    assert err.getvalue() == f"FAILED broken: {error}\n"
    assert re.fullmatch(
        "migrated delta\n" + _summary(total=total, migrated=1, current=total - 2, failed=1),
        out.getvalue(),
    )
    broken.refresh_from_db()
    delta.refresh_from_db()
    assert (broken.migration_status, broken.migration_error) == ("failed", error)
    assert (delta.migration_status, delta.migration_error) == ("ok", "")
    assert _has_actor_email("delta")
    assert host_status("broken.localhost") == 503
    assert host_status("delta.localhost") == 200


def test_migrate_tenants_clears_a_failure_once_the_tenant_migrates(gamma):
    Tenant.objects.filter(pk=gamma.pk).update(
        migration_status=Tenant.MigrationStatus.FAILED, migration_error="boom"
    )
    _forget_last_migration("gamma", undo_it=True)
    assert host_status("gamma.localhost") == 503  # the lookup is now cached

    out, _ = _run("migrate_tenants")

    gamma.refresh_from_db()
    assert out.startswith("migrated gamma\n")
    assert (gamma.migration_status, gamma.migration_error) == ("ok", "")
    assert host_status("gamma.localhost") == 200


def test_migrate_schemas_still_migrates_one_schema(gamma):
    _forget_last_migration("gamma", undo_it=True)

    call_command(
        "migrate_schemas", schema_name="gamma", tenant=True, interactive=False, verbosity=0
    )

    assert _has_actor_email("gamma")
    assert migrations_state.schema_is_stale("gamma") is False
    assert tenancy.current_schema() == "public"


# --- create_tenant, tenant_lifecycle -----------------------------------------------------------


def test_manage_py_create_tenant_is_the_platform_command():
    assert get_commands()["create_tenant"] == "apps.tenants"


def test_create_tenant_command(client):
    out, _ = _run(
        CreateTenantCommand(),
        "delta",
        "--name=Delta Works",
        "--domain=delta.localhost",
        f"--admin-password={PASSWORD}",
        "--module=hr",
        "--module=crm",
        "--time-zone=Europe/Paris",
    )

    assert re.fullmatch(r"Created delta at delta\.localhost by clone in \d+\.\d\ds\n", out)
    tenant = Tenant.objects.get(schema_name="delta")
    assert (tenant.name, tenant.time_zone, tenant.status) == (
        "Delta Works",
        "Europe/Paris",
        "active",
    )
    assert list(tenant.modules.values_list("module", flat=True)) == ["crm", "hr"]
    assert Domain.objects.get(tenant=tenant).domain == "delta.localhost"
    with tenancy.in_tenant("delta"):
        assert list(User.objects.values_list("username", flat=True)) == ["admin"]
    login = client.post(
        "/api/v1/auth/token/",
        {"username": "admin", "password": PASSWORD},
        content_type="application/json",
        HTTP_HOST="delta.localhost",
    )
    assert login.status_code == 200


def test_create_tenant_command_refuses_a_taken_schema():
    tenants_before = Tenant.objects.count()

    with pytest.raises(CommandError) as raised:
        _run(
            CreateTenantCommand(),
            "alpha",
            "--name=Again",
            "--domain=again.localhost",
            "--admin-password=x",
        )

    assert str(raised.value) == (
        "tenants.already_exists: A tenant with this schema name or domain already exists. "
        "{'schema_name': 'alpha'}"
    )
    assert Tenant.objects.count() == tenants_before


def test_tenant_lifecycle_suspends_and_reactivates(gamma, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        suspended_out, _ = _run("tenant_lifecycle", "suspend", "gamma")
    status_after_suspend = Tenant.objects.get(pk=gamma.pk).status
    host_after_suspend = host_status("gamma.localhost")
    with django_capture_on_commit_callbacks(execute=True):
        reactivated_out, _ = _run("tenant_lifecycle", "reactivate", "gamma")

    assert (suspended_out, status_after_suspend, host_after_suspend) == (
        "suspend: gamma done\n",
        "suspended",
        403,
    )
    assert reactivated_out == "reactivate: gamma done\n"
    assert Tenant.objects.get(pk=gamma.pk).status == "active"
    assert host_status("gamma.localhost") == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["suspend", "nobody"], "No tenant with schema 'nobody'."),
        (["suspend", "tenant_template"], "No tenant with schema 'tenant_template'."),
        (
            ["reactivate", "alpha"],
            "tenants.invalid_state: The tenant is not in a state that allows this.",
        ),
        (
            ["hard-delete", "alpha", "--confirm=alpha"],
            "tenants.invalid_state: Soft-delete the tenant first.",
        ),
    ],
)
def test_tenant_lifecycle_refusals(args, message):
    with pytest.raises(CommandError) as raised:
        _run("tenant_lifecycle", *args)

    assert str(raised.value) == message
    assert Tenant.objects.get(schema_name="alpha").status == "active"
    assert tenancy.schema_exists("alpha")


def test_tenant_lifecycle_delete_then_hard_delete(gamma):
    _run("tenant_lifecycle", "delete", "gamma")

    out, _ = _run("tenant_lifecycle", "hard-delete", "gamma", "--confirm=gamma")

    assert out == "hard-delete: gamma done\n"
    assert not Tenant.objects.filter(schema_name="gamma").exists()
    assert not tenancy.schema_exists("gamma")


# --- seed_demo ------------------------------------------------------------------------------


def test_seed_demo_is_idempotent():
    first, _ = _run("seed_demo")
    tenants_after_first = sorted(Tenant.objects.values_list("schema_name", "status"))

    second, _ = _run("seed_demo")

    assert re.fullmatch(
        r"created clinic in \d+\.\d\ds\ncreated staffco in \d+\.\d\ds\n"
        r"created waterworks in \d+\.\d\ds\n"
        r"hr demo for staffco: \d+ rows created, 50 employees\n"
        r"pipeline demo for waterworks: \d+ rows created, \d+ assets, \d+ sensors,"
        r" \d+ readings added\n",
        first,
    )
    assert second == ""
    assert sorted(Tenant.objects.values_list("schema_name", "status")) == tenants_after_first
    demo = Tenant.objects.filter(schema_name__in=["clinic", "staffco", "waterworks"])
    assert sorted(demo.values_list("schema_name", "modules__module", "time_zone")) == [
        ("clinic", "healthcare", "Europe/London"),
        ("staffco", "hr", "America/New_York"),
        ("waterworks", "pipeline", "Africa/Nairobi"),
    ]
    with tenancy.in_public():
        assert User.objects.filter(username="operator", is_superuser=True).count() == 1
    with tenancy.in_tenant("staffco"):
        # The hr demo's logins (apps.hr.demo) join the tenant's admin.
        assert sorted(User.objects.values_list("username", flat=True)) == [
            "admin",
            "employee",
            "manager",
        ]
