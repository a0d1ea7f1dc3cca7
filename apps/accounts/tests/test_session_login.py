"""Staff pages: session login on a tenant host, the admin, and sessions never crossing tenants."""

from __future__ import annotations

import pytest
from django.conf import settings

from apps.accounts.tests.conftest import error_code
from apps.core.tenancy import in_tenant
from tests.personas import PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


def _log_in(client, username: str = "admin", password: str = PASSWORD, *, next_url: str = "/"):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN_URL, data, follow=True)


def test_login_page_renders(web_client):
    response = web_client(TENANT_A).get(LOGIN_URL)

    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_login_page_signs_in_and_home_shows_the_tenant(web_client):
    client = web_client(TENANT_A)

    response = _log_in(client)

    assert response.status_code == 200
    assert response.redirect_chain == [("/", 302)]
    assert response.context["user"].username == "admin"
    assert "<h1>Tenant alpha</h1>" in response.content.decode()


def test_login_page_without_next_lands_on_home(web_client):
    client = web_client(TENANT_A)

    response = _log_in(client, next_url="")

    assert response.redirect_chain == [("/", 302)]
    assert response.status_code == 200


def test_login_page_with_wrong_password_stays_anonymous(web_client):
    client = web_client(TENANT_A)

    response = _log_in(client, password="not-the-password")

    assert response.status_code == 200
    assert response.redirect_chain == []
    assert response.context["user"].is_anonymous
    assert settings.SESSION_COOKIE_NAME not in client.cookies


def test_home_redirects_anonymous_to_login(web_client):
    response = web_client(TENANT_A).get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_tenant_admin_reaches_the_admin_on_its_own_host(web_client):
    client = web_client(TENANT_A)
    _log_in(client)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert response.context["user"].username == "admin"


def test_staff_member_without_admin_role_does_not_reach_the_admin(web_client):
    client = web_client(TENANT_A)
    _log_in(client, username="staff")

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_session_authenticates_the_api_on_its_own_host(web_client):
    client = web_client(TENANT_A)
    _log_in(client)

    response = client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["tenant"]["schema_name"] == TENANT_A


def test_alpha_session_cookie_does_not_authenticate_on_beta(web_client):
    alpha = web_client(TENANT_A)
    _log_in(alpha)
    session_key = alpha.cookies[settings.SESSION_COOKIE_NAME].value
    beta = web_client(TENANT_B)
    beta.cookies[settings.SESSION_COOKIE_NAME] = session_key

    api = beta.get("/api/v1/me/")
    admin = beta.get("/admin/")
    home = beta.get("/")

    assert api.status_code in (401, 403)
    assert error_code(api) in ("not_authenticated", "authentication_failed")
    assert admin.status_code == 302
    assert admin["Location"].startswith("/admin/login/")
    assert home.status_code == 302
    assert home["Location"] == "/accounts/login/?next=/"
    assert _session_exists(TENANT_A, session_key) is True
    assert _session_exists(TENANT_B, session_key) is False


def _session_exists(schema_name: str, session_key: str) -> bool:
    from django.contrib.sessions.models import Session

    with in_tenant(schema_name):
        return Session.objects.filter(session_key=session_key).exists()


@pytest.mark.parametrize(("schema_name", "shows_hr"), [(TENANT_A, True), (TENANT_B, False)])
def test_home_links_the_staff_pages_of_the_modules_the_tenant_has(
    web_client, schema_name, shows_hr
):
    client = web_client(schema_name)

    response = _log_in(client)

    page = response.content.decode()
    assert ('href="/hr/leave/"' in page) is shows_hr
    assert ('href="/hr/attendance/"' in page) is shows_hr
    assert 'href="/api/docs/"' in page
