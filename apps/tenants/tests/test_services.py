import pytest
from django.db import IntegrityError, connection

from apps.accounts.models import Role, User
from apps.core import tenancy
from apps.tenants import services
from apps.tenants.errors import (
    TenantAlreadyExistsError,
    TenantSchemaNameInvalidError,
    TenantStateError,
    UnknownModuleError,
)
from apps.tenants.models import Domain, Tenant, TenantModule
from apps.tenants.tests.factories import (
    FIRST_ADMIN,
    host_of,
    host_status,
    schema_names,
    schema_tables,
    tenant_provision,
)
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

SUSPENDED_BODY = {
    "error": {
        "code": "tenant_suspended",
        "message": "This tenant is suspended.",
        "details": {},
        "fields": {},
    }
}
NOT_FOUND_BODY = {
    "error": {
        "code": "tenant_not_found",
        "message": "No tenant is served at this host.",
        "details": {},
        "fields": {},
    }
}


def _create(schema_name: str, domain: str, **overrides) -> None:
    services.tenant_create(
        schema_name=schema_name,
        name="Refused",
        domain=domain,
        admin_username=FIRST_ADMIN,
        admin_password=PASSWORD,
        **overrides,
    )


# --- tenant_create ---------------------------------------------------------------------------


def test_create_clones_the_template_and_adds_roles_domain_modules_and_admin():
    template_tables = schema_tables(services.template_schema_name())

    tenant = tenant_provision(schema_name="gamma", modules=["hr", "crm"])

    assert (tenant.schema_name, tenant.kind, tenant.status, tenant.migration_status) == (
        "gamma",
        "business",
        "active",
        "ok",
    )
    assert "accounts_user" in template_tables
    assert schema_tables("gamma") == template_tables
    domain = Domain.objects.get(tenant=tenant)
    assert (domain.domain, domain.is_primary) == ("gamma.localhost", True)
    switches = TenantModule.objects.filter(tenant=tenant).values_list("module", "is_enabled")
    assert list(switches) == [("crm", True), ("hr", True)]
    with tenancy.in_tenant("gamma"):
        roles = list(Role.objects.values_list("slug", "is_builtin"))
        users = list(User.objects.values_list("username", "is_superuser"))
        admin_roles = list(User.objects.get(username=FIRST_ADMIN).roles.values_list("slug"))
    assert roles == [("manager", True), ("staff", True), ("tenant_admin", True), ("viewer", True)]
    assert users == [(FIRST_ADMIN, False)]
    assert admin_roles == [("tenant_admin",)]


def test_first_admin_logs_in_on_the_new_host(client):
    tenant_provision(schema_name="gamma")

    response = client.post(
        "/api/v1/auth/token/",
        {"username": FIRST_ADMIN, "password": PASSWORD},
        content_type="application/json",
        HTTP_HOST="gamma.localhost",
    )

    assert response.status_code == 200
    assert sorted(response.json()) == ["access", "refresh"]


def test_cached_unknown_host_serves_the_tenant_once_created():
    assert host_status("gamma.localhost") == 404  # caches the miss

    tenant_provision(schema_name="gamma")

    assert host_status("gamma.localhost") == 200


@pytest.mark.parametrize(
    "schema_name",
    [
        "Gamma",
        "ga",
        "1gamma",
        "_gamma",
        "gam-ma",
        "gamma;drop",
        "g" * 51,
        "public",
        "information_schema",
        "pg_gamma",
        "tenant_template",
    ],
)
def test_create_refuses_invalid_schema_names(schema_name):
    tenants_before = Tenant.objects.count()
    schemas_before = schema_names()

    with pytest.raises(TenantSchemaNameInvalidError) as raised:
        _create(schema_name, "refused.localhost")

    assert raised.value.code == "tenants.schema_name_invalid"
    assert raised.value.details == {"schema_name": schema_name}
    assert Tenant.objects.count() == tenants_before
    assert not Domain.objects.filter(domain="refused.localhost").exists()
    assert schema_names() == schemas_before


@pytest.mark.parametrize(
    ("schema_name", "domain", "details"),
    [
        ("alpha", "refused.localhost", {"schema_name": "alpha"}),
        ("gamma", "alpha.localhost", {"domain": "alpha.localhost"}),
    ],
)
def test_create_refuses_a_taken_schema_or_domain(schema_name, domain, details):
    tenants_before = Tenant.objects.count()
    schemas_before = schema_names()

    with pytest.raises(TenantAlreadyExistsError) as raised:
        _create(schema_name, domain)

    assert raised.value.code == "tenants.already_exists"
    assert raised.value.details == details
    assert Tenant.objects.count() == tenants_before
    assert schema_names() == schemas_before
    assert not Domain.objects.filter(domain="refused.localhost").exists()


def test_create_refuses_a_schema_that_exists_without_a_tenant():
    with tenancy.in_public(), connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA orphan")

    with pytest.raises(TenantAlreadyExistsError) as raised:
        _create("orphan", "orphan.localhost")

    assert raised.value.details == {"schema_name": "orphan"}
    assert not Tenant.objects.filter(schema_name="orphan").exists()
    assert schema_tables("orphan") == []


def test_create_refuses_unknown_modules():
    with pytest.raises(UnknownModuleError) as raised:
        _create("gamma", "gamma.localhost", modules=["hr", "astrology", "alchemy"])

    assert raised.value.code == "tenants.unknown_module"
    assert raised.value.details == {"modules": ["alchemy", "astrology"]}
    assert not Tenant.objects.filter(schema_name="gamma").exists()
    assert not tenancy.schema_exists("gamma")


def test_create_failing_after_the_clone_leaves_no_schema_or_row(monkeypatch):
    def admin_create_fails(**kwargs):
        raise IntegrityError("first admin refused")

    monkeypatch.setattr(services, "_tenant_first_admin_create", admin_create_fails)

    with pytest.raises(IntegrityError):
        _create("gamma", "gamma.localhost", modules=["hr"])

    assert not tenancy.schema_exists("gamma")
    assert not Tenant.objects.filter(schema_name="gamma").exists()
    assert not Domain.objects.filter(domain="gamma.localhost").exists()
    assert not TenantModule.objects.filter(tenant__schema_name="gamma").exists()


# --- suspend, reactivate, soft and hard delete -------------------------------------------------


def test_suspend_answers_403_on_the_next_request(client, gamma, django_capture_on_commit_callbacks):
    assert host_status("gamma.localhost") == 200  # the lookup is now cached

    with django_capture_on_commit_callbacks(execute=True):
        suspended = services.tenant_suspend(tenant=gamma)

    response = client.get("/api/v1/health/", HTTP_HOST="gamma.localhost")
    assert response.status_code == 403
    assert response.json() == SUSPENDED_BODY
    assert suspended.status == Tenant.Status.SUSPENDED
    assert Tenant.objects.get(pk=gamma.pk).suspended_at == suspended.suspended_at


def test_reactivate_serves_the_host_again(gamma, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.tenant_suspend(tenant=gamma)
    assert host_status("gamma.localhost") == 403

    with django_capture_on_commit_callbacks(execute=True):
        services.tenant_reactivate(tenant=gamma)

    assert host_status("gamma.localhost") == 200
    stored = Tenant.objects.get(pk=gamma.pk)
    assert (stored.status, stored.suspended_at, stored.deleted_at) == ("active", None, None)


def test_soft_delete_answers_404_and_keeps_the_schema(
    client, gamma, django_capture_on_commit_callbacks
):
    assert host_status("gamma.localhost") == 200

    with django_capture_on_commit_callbacks(execute=True):
        services.tenant_soft_delete(tenant=gamma)

    response = client.get("/api/v1/health/", HTTP_HOST="gamma.localhost")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND_BODY
    assert tenancy.schema_exists("gamma")
    with tenancy.in_tenant("gamma"):
        assert User.objects.filter(username=FIRST_ADMIN).exists()
    assert Tenant.objects.get(pk=gamma.pk).status == Tenant.Status.DELETED


def test_hard_delete_refuses_a_tenant_that_is_not_soft_deleted(gamma):
    with pytest.raises(TenantStateError) as raised:
        services.tenant_hard_delete(tenant=gamma, confirm_schema_name="gamma")

    assert raised.value.code == "tenants.invalid_state"
    assert raised.value.message == "Soft-delete the tenant first."
    assert tenancy.schema_exists("gamma")
    assert Tenant.objects.get(pk=gamma.pk).status == Tenant.Status.ACTIVE


def test_hard_delete_refuses_a_wrong_confirmation(gamma):
    services.tenant_soft_delete(tenant=gamma)

    with pytest.raises(TenantStateError) as raised:
        services.tenant_hard_delete(tenant=gamma, confirm_schema_name="Gamma")

    assert raised.value.message == "The confirmation does not match the schema name."
    assert tenancy.schema_exists("gamma")
    assert Tenant.objects.filter(pk=gamma.pk).exists()


def test_hard_delete_drops_the_schema_and_rows(gamma, django_capture_on_commit_callbacks):
    services.tenant_soft_delete(tenant=gamma)

    with django_capture_on_commit_callbacks(execute=True):
        services.tenant_hard_delete(tenant=gamma, confirm_schema_name="gamma")

    assert not tenancy.schema_exists("gamma")
    assert not Tenant.objects.filter(pk=gamma.pk).exists()
    assert not Domain.objects.filter(domain="gamma.localhost").exists()
    assert not TenantModule.objects.filter(tenant_id=gamma.pk).exists()
    assert host_status("gamma.localhost") == 404
    assert tenancy.schema_exists("alpha")


@pytest.mark.parametrize(
    ("steps", "invalid", "status"),
    [
        ([services.tenant_suspend], services.tenant_suspend, "suspended"),
        ([services.tenant_soft_delete], services.tenant_suspend, "deleted"),
        ([], services.tenant_reactivate, "active"),
        ([services.tenant_soft_delete], services.tenant_soft_delete, "deleted"),
    ],
    ids=["suspend-suspended", "suspend-deleted", "reactivate-active", "delete-deleted"],
)
def test_invalid_transitions_are_refused(gamma_row, steps, invalid, status):
    for step in steps:
        step(tenant=gamma_row)

    with pytest.raises(TenantStateError) as raised:
        invalid(tenant=gamma_row)

    assert raised.value.code == "tenants.invalid_state"
    assert raised.value.details == {"status": status}
    assert Tenant.objects.get(pk=gamma_row.pk).status == status


@pytest.mark.parametrize(
    ("steps", "action", "status"),
    [
        ([services.tenant_suspend], services.tenant_soft_delete, "deleted"),
        ([services.tenant_soft_delete], services.tenant_reactivate, "active"),
        ([], services.tenant_soft_delete, "deleted"),
    ],
    ids=["delete-suspended", "reactivate-deleted", "delete-active"],
)
def test_valid_transitions_are_applied(gamma_row, steps, action, status):
    for step in steps:
        step(tenant=gamma_row)

    returned = action(tenant=gamma_row)

    assert returned.status == Tenant.objects.get(pk=gamma_row.pk).status == status


def test_platform_and_template_rows_have_no_lifecycle():
    template = Tenant.objects.get(schema_name=services.template_schema_name())
    public = Tenant.objects.get(schema_name="public")

    for tenant in (template, public):
        with pytest.raises(Tenant.DoesNotExist):
            services.tenant_suspend(tenant=tenant)

    assert Tenant.objects.get(pk=template.pk).status == Tenant.Status.ACTIVE
    assert Tenant.objects.get(pk=public.pk).status == Tenant.Status.ACTIVE


# --- domains and modules: the host cache ------------------------------------------------------


def test_added_domain_is_served_although_its_miss_was_cached(
    tenant_a, django_capture_on_commit_callbacks
):
    assert host_status("second.localhost") == 404  # caches the miss

    with django_capture_on_commit_callbacks(execute=True):
        domain = services.domain_add(tenant=tenant_a, domain="second.localhost")

    assert host_status("second.localhost") == 200
    assert (domain.tenant_id, domain.is_primary) == (tenant_a.pk, False)


def test_removed_domain_answers_404_on_the_next_request(
    tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        domain = services.domain_add(tenant=tenant_a, domain="second.localhost")
    assert host_status("second.localhost") == 200  # the lookup is now cached

    with django_capture_on_commit_callbacks(execute=True):
        services.domain_remove(domain=domain)

    assert host_status("second.localhost") == 404
    assert host_status(host_of("alpha")) == 200


def test_domain_add_refuses_a_taken_domain(tenant_a, tenant_b):
    with pytest.raises(TenantAlreadyExistsError) as raised:
        services.domain_add(tenant=tenant_a, domain="beta.localhost")

    assert raised.value.details == {"domain": "beta.localhost"}
    assert Domain.objects.get(domain="beta.localhost").tenant_id == tenant_b.pk


def test_module_set_refuses_an_unknown_module(tenant_a):
    with pytest.raises(UnknownModuleError) as raised:
        services.tenant_module_set(tenant=tenant_a, module="astrology", is_enabled=True)

    assert raised.value.details == {"module": "astrology"}
    assert list(TenantModule.objects.filter(tenant=tenant_a).values_list("module")) == [("hr",)]


def test_domain_add_stores_the_domain_as_hosts_are_looked_up(
    tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        domain = services.domain_add(tenant=tenant_a, domain=" Second.Localhost. ")

    assert domain.domain == "second.localhost"
    assert host_status("second.localhost") == 200


def test_create_refuses_a_taken_domain_in_other_letter_case():
    with pytest.raises(TenantAlreadyExistsError) as raised:
        _create("gamma", "ALPHA.localhost")

    assert raised.value.details == {"domain": "alpha.localhost"}
    assert not Tenant.objects.filter(schema_name="gamma").exists()


def test_create_accepts_a_module_named_twice():
    tenant = tenant_provision(schema_name="gamma", modules=["hr", "hr"])

    assert list(tenant.modules.values_list("module", flat=True)) == ["hr"]
