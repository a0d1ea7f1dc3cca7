"""The platform admin on the operators' host: tenants, their domains, the lifecycle actions."""

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.core import tenancy
from apps.tenants.models import Domain, Tenant, TenantModule
from apps.tenants.selectors import tenant_for_hostname
from apps.tenants.services import domain_add
from apps.tenants.tests.factories import host_status
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

PUBLIC_HOST = "localhost"
TENANTS_URL = "/admin/tenants/tenant/"
DOMAINS_URL = "/admin/tenants/domain/"


@pytest.fixture
def operator() -> User:
    with tenancy.in_public():
        return User.objects.create_superuser(
            username="operator-test", email="operator@example.test", password=PASSWORD
        )


@pytest.fixture
def operator_client(operator) -> Client:
    client = Client(HTTP_HOST=PUBLIC_HOST)
    with tenancy.in_public():
        client.force_login(operator)
    return client


def test_operator_logs_in_and_sees_tenants(operator):
    client = Client(HTTP_HOST=PUBLIC_HOST)

    login = client.post(
        "/admin/login/", {"username": "operator-test", "password": PASSWORD, "next": "/admin/"}
    )
    index = client.get("/admin/")
    changelist = client.get(TENANTS_URL)

    assert (login.status_code, login["Location"]) == (302, "/admin/")
    assert index.status_code == 200
    assert f'href="{TENANTS_URL}"' in index.content.decode()
    assert f'href="{DOMAINS_URL}"' in index.content.decode()
    assert changelist.status_code == 200
    assert "Tenant alpha" in changelist.content.decode()
    assert "Tenant beta" in changelist.content.decode()


def test_wrong_operator_password_is_refused(operator):
    client = Client(HTTP_HOST=PUBLIC_HOST)

    login = client.post("/admin/login/", {"username": "operator-test", "password": "wrong"})
    index = client.get("/admin/")

    assert login.status_code == 200
    assert (index.status_code, index["Location"]) == (302, "/admin/login/?next=/admin/")


def _action(client: Client, action: str, tenant: Tenant, **extra: str):
    return client.post(
        TENANTS_URL, {"action": action, "_selected_action": [str(tenant.pk)], **extra}
    )


def test_suspend_and_reactivate_actions(operator_client, gamma, django_capture_on_commit_callbacks):
    assert host_status("gamma.localhost") == 200

    with django_capture_on_commit_callbacks(execute=True):
        suspend = _action(operator_client, "suspend", gamma)
    status_after_suspend = Tenant.objects.get(pk=gamma.pk).status
    host_after_suspend = host_status("gamma.localhost")
    with django_capture_on_commit_callbacks(execute=True):
        reactivate = _action(operator_client, "reactivate", gamma)

    assert (suspend.status_code, suspend["Location"]) == (302, TENANTS_URL)
    assert (status_after_suspend, host_after_suspend) == ("suspended", 403)
    assert reactivate.status_code == 302
    assert Tenant.objects.get(pk=gamma.pk).status == "active"
    assert host_status("gamma.localhost") == 200


def test_refused_action_reports_the_error_and_changes_nothing(operator_client, gamma_row):
    response = operator_client.post(
        TENANTS_URL, {"action": "reactivate", "_selected_action": [str(gamma_row.pk)]}, follow=True
    )

    assert response.status_code == 200
    assert "Tenant gamma (gamma): The tenant is not in a state that allows this." in (
        response.content.decode()
    )
    assert Tenant.objects.get(pk=gamma_row.pk).status == "active"


def test_hard_delete_action_asks_then_drops_with_the_confirmation(
    operator_client, gamma, django_capture_on_commit_callbacks
):
    _action(operator_client, "soft_delete", gamma)

    asked = _action(operator_client, "hard_delete", gamma)
    wrong = _action(
        operator_client, "hard_delete", gamma, confirmed="yes", **{f"confirm_{gamma.pk}": "alpha"}
    )
    schema_after_wrong = tenancy.schema_exists("gamma")
    with django_capture_on_commit_callbacks(execute=True):
        dropped = _action(
            operator_client,
            "hard_delete",
            gamma,
            confirmed="yes",
            **{f"confirm_{gamma.pk}": "gamma"},
        )

    assert asked.status_code == 200
    assert f'name="confirm_{gamma.pk}"' in asked.content.decode()
    assert (wrong.status_code, schema_after_wrong) == (302, True)
    assert dropped.status_code == 302
    assert not tenancy.schema_exists("gamma")
    assert not Tenant.objects.filter(pk=gamma.pk).exists()


def test_tenant_add_and_row_delete_are_not_offered(operator_client, gamma_row):
    add = operator_client.get(f"{TENANTS_URL}add/")
    delete = operator_client.post(f"{TENANTS_URL}{gamma_row.pk}/delete/", {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert Tenant.objects.filter(pk=gamma_row.pk).exists()


# --- domain edits reach the host cache --------------------------------------------------------


@pytest.fixture
def extra_domain(tenant_a, django_capture_on_commit_callbacks) -> Domain:
    with django_capture_on_commit_callbacks(execute=True):
        domain = domain_add(tenant=tenant_a, domain="old-name.localhost")
    assert host_status("old-name.localhost") == 200  # the lookup is now cached
    return domain


def test_domain_renamed_in_the_domain_admin(
    operator_client, extra_domain, tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            f"{DOMAINS_URL}{extra_domain.pk}/change/",
            {"domain": "new-name.localhost", "tenant": str(tenant_a.pk), "_save": "Save"},
        )

    assert response.status_code == 302
    assert host_status("old-name.localhost") == 404
    assert host_status("new-name.localhost") == 200


def test_domain_added_in_the_domain_admin_is_served(
    operator_client, tenant_a, django_capture_on_commit_callbacks
):
    assert host_status("added.localhost") == 404  # caches the miss

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            f"{DOMAINS_URL}add/",
            {"domain": "added.localhost", "tenant": str(tenant_a.pk), "_save": "Save"},
        )

    assert response.status_code == 302
    assert host_status("added.localhost") == 200


def test_domain_deleted_in_the_domain_admin(
    operator_client, extra_domain, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"{DOMAINS_URL}{extra_domain.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert host_status("old-name.localhost") == 404


def test_domains_deleted_by_the_changelist_action(
    operator_client, extra_domain, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            DOMAINS_URL,
            {
                "action": "delete_selected",
                "_selected_action": [str(extra_domain.pk)],
                "post": "yes",
            },
        )

    assert response.status_code == 302
    assert not Domain.objects.filter(pk=extra_domain.pk).exists()
    assert host_status("old-name.localhost") == 404


def _tenant_form(tenant: Tenant, domains: list[tuple[Domain, str]], **extra: str) -> dict:
    data = {
        "name": tenant.name,
        "time_zone": tenant.time_zone,
        "domains-TOTAL_FORMS": str(len(domains)),
        "domains-INITIAL_FORMS": str(len(domains)),
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "modules-TOTAL_FORMS": "0",
        "modules-INITIAL_FORMS": "0",
        "modules-MIN_NUM_FORMS": "0",
        "modules-MAX_NUM_FORMS": "1000",
        "_save": "Save",
        **extra,
    }
    for index, (domain, name) in enumerate(domains):
        data[f"domains-{index}-id"] = str(domain.pk)
        data[f"domains-{index}-tenant"] = str(tenant.pk)
        data[f"domains-{index}-domain"] = name
        if domain.is_primary:
            data[f"domains-{index}-is_primary"] = "on"
    return data


def test_domain_renamed_in_the_tenant_inline(
    operator_client, tenant_a, extra_domain, django_capture_on_commit_callbacks
):
    primary = Domain.objects.get(tenant=tenant_a, is_primary=True)
    data = _tenant_form(tenant_a, [(primary, primary.domain), (extra_domain, "new-name.localhost")])

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"{TENANTS_URL}{tenant_a.pk}/change/", data)

    assert response.status_code == 302
    assert Domain.objects.get(pk=extra_domain.pk).domain == "new-name.localhost"
    assert host_status("old-name.localhost") == 404
    assert host_status("new-name.localhost") == 200


def test_domain_removed_in_the_tenant_inline(
    operator_client, tenant_a, extra_domain, django_capture_on_commit_callbacks
):
    primary = Domain.objects.get(tenant=tenant_a, is_primary=True)
    data = _tenant_form(
        tenant_a,
        [(primary, primary.domain), (extra_domain, extra_domain.domain)],
        **{"domains-1-DELETE": "on"},
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"{TENANTS_URL}{tenant_a.pk}/change/", data)

    assert response.status_code == 302
    assert host_status("old-name.localhost") == 404
    assert host_status(primary.domain) == 200


def test_module_switched_off_in_the_tenant_inline(
    operator_client, gamma_row, django_capture_on_commit_callbacks
):
    domain = Domain.objects.get(tenant=gamma_row)
    switch = TenantModule.objects.create(tenant=gamma_row, module="hr")
    data = _tenant_form(
        gamma_row,
        [(domain, domain.domain)],
        **{
            "modules-TOTAL_FORMS": "1",
            "modules-INITIAL_FORMS": "1",
            "modules-0-id": str(switch.pk),
            "modules-0-tenant": str(gamma_row.pk),
            "modules-0-module": "hr",
        },
    )
    # The selector caches the lookup, like a request on gamma's host would.
    assert tenant_for_hostname(hostname="gamma.localhost").modules == frozenset({"hr"})

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"{TENANTS_URL}{gamma_row.pk}/change/", data)

    assert response.status_code == 302
    assert tenant_for_hostname(hostname="gamma.localhost").modules == frozenset()
