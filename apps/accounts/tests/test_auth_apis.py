"""JWT login, refresh, logout and the login throttle, over HTTP on the tenant hosts."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.tests.conftest import error_code
from apps.core.tenancy import in_tenant
from tests.fixtures import persona
from tests.personas import PASSWORD, PERSONAS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"
ADMIN_ID = str(PERSONAS["admin"][0])


def _login(api_client, schema_name: str, username: str, password: str):
    return api_client(schema_name).post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )


# --- Login ---------------------------------------------------------------------------------


@pytest.mark.parametrize("schema_name", [TENANT_A, TENANT_B])
def test_login_returns_token_pair_naming_the_tenant(api_client, schema_name):
    response = _login(api_client, schema_name, "admin", PASSWORD)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    with in_tenant(schema_name):
        access = AccessToken(body["access"])
        refresh = RefreshToken(body["refresh"])
    assert access["tenant"] == schema_name
    assert access["user_id"] == ADMIN_ID
    assert access["token_type"] == "access"
    assert refresh["tenant"] == schema_name
    assert refresh["user_id"] == ADMIN_ID
    assert refresh["token_type"] == "refresh"


def test_issued_access_token_authenticates_on_its_tenant(api_client, token_pair):
    access = token_pair(TENANT_A, "staff")["access"]
    client = api_client(TENANT_A)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    response = client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "staff"


def test_login_with_wrong_password_is_401_invalid_credentials(api_client):
    response = _login(api_client, TENANT_A, "admin", "not-the-password")

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "accounts.invalid_credentials",
            "message": "No active account found with the given credentials.",
            "details": {},
            "fields": {},
        }
    }


def test_login_of_unknown_user_is_401_invalid_credentials(api_client):
    response = _login(api_client, TENANT_A, "nobody", PASSWORD)

    assert response.status_code == 401
    assert error_code(response) == "accounts.invalid_credentials"


def test_login_of_deactivated_user_is_401_invalid_credentials(api_client):
    with in_tenant(TENANT_A):
        staff = persona(TENANT_A, "staff")
        staff.is_active = False
        staff.save()

    response = _login(api_client, TENANT_A, "staff", PASSWORD)

    assert response.status_code == 401
    assert error_code(response) == "accounts.invalid_credentials"


# --- Refresh and logout -----------------------------------------------------------------------


def test_refresh_rotates_and_refuses_the_old_refresh_token(api_client, token_pair):
    old = token_pair(TENANT_A, "admin")
    client = api_client(TENANT_A)

    rotated = client.post(REFRESH_URL, {"refresh": old["refresh"]}, format="json")
    replayed = client.post(REFRESH_URL, {"refresh": old["refresh"]}, format="json")

    assert rotated.status_code == 200
    body = rotated.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != old["refresh"]
    with in_tenant(TENANT_A):
        new_refresh = RefreshToken(body["refresh"])
        new_access = AccessToken(body["access"])
    assert new_refresh["tenant"] == TENANT_A
    assert new_access["tenant"] == TENANT_A
    assert new_access["user_id"] == ADMIN_ID
    assert replayed.status_code == 401
    assert error_code(replayed) == "token_not_valid"


def test_rotated_refresh_token_refreshes_again(api_client, token_pair):
    old = token_pair(TENANT_A, "admin")
    client = api_client(TENANT_A)
    rotated = client.post(REFRESH_URL, {"refresh": old["refresh"]}, format="json").json()

    response = client.post(REFRESH_URL, {"refresh": rotated["refresh"]}, format="json")

    assert response.status_code == 200


def test_logout_blacklists_the_refresh_token(api_client, token_pair):
    tokens = token_pair(TENANT_A, "admin")
    client = api_client(TENANT_A)

    logout = client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json")
    refresh = client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")

    assert logout.status_code == 204
    assert refresh.status_code == 401
    assert error_code(refresh) == "token_not_valid"


def test_logout_twice_is_401(api_client, token_pair):
    tokens = token_pair(TENANT_A, "admin")
    client = api_client(TENANT_A)
    client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json")

    response = client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


@pytest.mark.parametrize("url", [REFRESH_URL, LOGOUT_URL])
def test_garbage_refresh_token_is_401(api_client, url):
    response = api_client(TENANT_A).post(url, {"refresh": "not-a-jwt"}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


def test_access_token_is_refused_as_refresh_token(api_client, token_pair):
    tokens = token_pair(TENANT_A, "admin")

    response = api_client(TENANT_A).post(REFRESH_URL, {"refresh": tokens["access"]}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


# --- Tokens never cross tenants -----------------------------------------------------------------


def test_alpha_access_token_is_refused_on_beta(api_client, token_pair):
    access = token_pair(TENANT_A, "admin")["access"]
    client = api_client(TENANT_B)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    with in_tenant(TENANT_B):
        assert persona(TENANT_B, "admin").pk == PERSONAS["admin"][0]

    response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


def test_alpha_refresh_token_is_refused_by_beta_refresh(api_client, token_pair):
    refresh = token_pair(TENANT_A, "admin")["refresh"]

    on_beta = api_client(TENANT_B).post(REFRESH_URL, {"refresh": refresh}, format="json")
    on_alpha = api_client(TENANT_A).post(REFRESH_URL, {"refresh": refresh}, format="json")

    assert on_beta.status_code == 401
    assert error_code(on_beta) == "token_not_valid"
    # Beta's refusal did not blacklist the token in alpha.
    assert on_alpha.status_code == 200


def test_alpha_refresh_token_is_refused_by_beta_logout(api_client, token_pair):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    refresh = token_pair(TENANT_A, "admin")["refresh"]

    on_beta = api_client(TENANT_B).post(LOGOUT_URL, {"refresh": refresh}, format="json")

    assert on_beta.status_code == 401
    assert error_code(on_beta) == "token_not_valid"
    for schema_name in (TENANT_A, TENANT_B):
        with in_tenant(schema_name):
            assert BlacklistedToken.objects.count() == 0
    on_alpha = api_client(TENANT_A).post(REFRESH_URL, {"refresh": refresh}, format="json")
    assert on_alpha.status_code == 200


def _token_without_tenant_claim(schema_name: str, name: str) -> RefreshToken:
    with in_tenant(schema_name):
        return RefreshToken.for_user(persona(schema_name, name))


def test_access_token_without_tenant_claim_is_401(api_client):
    refresh = _token_without_tenant_claim(TENANT_A, "admin")
    client = api_client(TENANT_A)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")

    response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


@pytest.mark.parametrize("url", [REFRESH_URL, LOGOUT_URL])
def test_refresh_token_without_tenant_claim_is_401(api_client, url):
    refresh = _token_without_tenant_claim(TENANT_A, "admin")

    response = api_client(TENANT_A).post(url, {"refresh": str(refresh)}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


def test_access_token_naming_another_tenant_is_401(api_client):
    with in_tenant(TENANT_A):
        refresh = RefreshToken.for_user(persona(TENANT_A, "admin"))
        refresh["tenant"] = TENANT_B
    client = api_client(TENANT_A)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")

    response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


def test_me_without_credentials_is_401(api_client):
    response = api_client(TENANT_A).get("/api/v1/me/")

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


# --- Login throttle ---------------------------------------------------------------------------


def _fail_logins(api_client, schema_name: str, username: str, times: int) -> list[int]:
    return [
        _login(api_client, schema_name, username, "wrong-password").status_code
        for _ in range(times)
    ]


def test_login_is_throttled_after_max_failures_even_with_right_password(api_client):
    max_failures = settings.TENANTRY_LOGIN_MAX_FAILURES

    statuses = _fail_logins(api_client, TENANT_A, "admin", max_failures)
    response = _login(api_client, TENANT_A, "admin", PASSWORD)

    assert statuses == [401] * max_failures
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "accounts.login_throttled"
    assert response.json()["error"]["details"] == {
        "retry_after_seconds": settings.TENANTRY_LOGIN_FAILURE_WINDOW_SECONDS
    }


def test_login_is_not_throttled_one_failure_before_the_limit(api_client):
    _fail_logins(api_client, TENANT_A, "admin", settings.TENANTRY_LOGIN_MAX_FAILURES - 1)

    response = _login(api_client, TENANT_A, "admin", PASSWORD)

    assert response.status_code == 200


def test_successful_login_resets_the_failure_count(api_client):
    max_failures = settings.TENANTRY_LOGIN_MAX_FAILURES
    _fail_logins(api_client, TENANT_A, "admin", max_failures - 1)
    assert _login(api_client, TENANT_A, "admin", PASSWORD).status_code == 200

    statuses = _fail_logins(api_client, TENANT_A, "admin", max_failures - 1)
    response = _login(api_client, TENANT_A, "admin", PASSWORD)

    assert statuses == [401] * (max_failures - 1)
    assert response.status_code == 200


def test_throttle_counts_usernames_case_insensitively(api_client):
    _fail_logins(api_client, TENANT_A, "ADMIN", settings.TENANTRY_LOGIN_MAX_FAILURES)

    response = _login(api_client, TENANT_A, "admin", PASSWORD)

    assert response.status_code == 429


def test_same_username_on_other_tenant_is_not_throttled(api_client):
    _fail_logins(api_client, TENANT_A, "admin", settings.TENANTRY_LOGIN_MAX_FAILURES)

    on_beta = _login(api_client, TENANT_B, "admin", PASSWORD)
    on_alpha = _login(api_client, TENANT_A, "admin", PASSWORD)

    assert on_beta.status_code == 200
    assert on_alpha.status_code == 429


def test_other_username_on_same_tenant_is_not_throttled(api_client):
    _fail_logins(api_client, TENANT_A, "admin", settings.TENANTRY_LOGIN_MAX_FAILURES)

    response = _login(api_client, TENANT_A, "staff", PASSWORD)

    assert response.status_code == 200
