"""/api/v1/users/: create, update, deactivate, the last-admin rule, filters and pagination."""

from __future__ import annotations

import pytest

from apps.accounts.models import Role, User
from apps.accounts.tests.conftest import error_code
from apps.core.tenancy import in_tenant
from tests.fixtures import persona
from tests.personas import PASSWORD, PERSONAS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

ALPHA_USERNAMES = ["admin", "first-admin", "outsider", "staff"]


def _user_state(schema_name: str, username: str) -> tuple[bool, list[str]] | None:
    """(is_active, sorted role slugs) of the user, or None if there is no such user."""
    with in_tenant(schema_name):
        user = User.objects.filter(username=username).first()
        if user is None:
            return None
        return user.is_active, sorted(user.roles.values_list("slug", flat=True))


def _only_admin_left(schema_name: str = TENANT_A) -> None:
    with in_tenant(schema_name):
        User.objects.filter(username="first-admin").update(is_active=False)


def _login_status(api_client, schema_name: str, username: str, password: str) -> int:
    response = api_client(schema_name).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    return response.status_code


# --- Create ------------------------------------------------------------------------------------


def test_admin_creates_user_with_roles_who_can_log_in(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/users/",
        {
            "username": "newcomer",
            "password": "newcomer-password-1",
            "email": "newcomer@example.test",
            "first_name": "New",
            "last_name": "Comer",
            "roles": ["staff", "viewer"],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "roles",
        "created_at",
    }
    assert body["username"] == "newcomer"
    assert body["email"] == "newcomer@example.test"
    assert body["first_name"] == "New"
    assert body["last_name"] == "Comer"
    assert body["is_active"] is True
    assert sorted(body["roles"]) == ["staff", "viewer"]
    with in_tenant(TENANT_A):
        assert str(User.objects.get(username="newcomer").pk) == body["id"]
    assert _user_state(TENANT_A, "newcomer") == (True, ["staff", "viewer"])
    assert _user_state(TENANT_B, "newcomer") is None
    assert _login_status(api_client, TENANT_A, "newcomer", "newcomer-password-1") == 200
    assert _login_status(api_client, TENANT_B, "newcomer", "newcomer-password-1") == 401


def test_user_created_without_password_cannot_log_in(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/users/", {"username": "newcomer"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["roles"] == []
    assert _login_status(api_client, TENANT_A, "newcomer", "") == 400
    assert _login_status(api_client, TENANT_A, "newcomer", "anything-at-all") == 401


@pytest.mark.parametrize("username", ["staff", "STAFF"])
def test_duplicate_username_is_409(api_client, username):
    with in_tenant(TENANT_A):
        count = User.objects.count()

    response = api_client(TENANT_A, "admin").post(
        "/api/v1/users/", {"username": username, "password": "another-password-1"}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "accounts.username_taken"
    with in_tenant(TENANT_A):
        assert User.objects.count() == count
        assert persona(TENANT_A, "staff").check_password(PASSWORD) is True


def test_create_with_unknown_role_is_400_and_creates_nothing(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/users/", {"username": "newcomer", "roles": ["wizard"]}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "accounts.unknown_role"
    assert response.json()["error"]["details"] == {"roles": ["wizard"]}
    assert _user_state(TENANT_A, "newcomer") is None


def test_create_with_short_password_is_400_validation_error(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/users/", {"username": "newcomer", "password": "short"}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert list(response.json()["error"]["fields"]) == ["password"]
    assert _user_state(TENANT_A, "newcomer") is None


@pytest.mark.parametrize("name", ["staff", "outsider"])
def test_non_admins_cannot_create_users(api_client, name):
    response = api_client(TENANT_A, name).post(
        "/api/v1/users/",
        {"username": "newcomer", "password": "newcomer-password-1", "roles": ["tenant_admin"]},
        format="json",
    )

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert _user_state(TENANT_A, "newcomer") is None


# --- Update and deactivate ----------------------------------------------------------------------


def test_admin_patches_roles(api_client):
    staff_id = PERSONAS["staff"][0]

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/users/{staff_id}/", {"roles": ["viewer", "manager"]}, format="json"
    )

    assert response.status_code == 200
    assert sorted(response.json()["roles"]) == ["manager", "viewer"]
    assert _user_state(TENANT_A, "staff") == (True, ["manager", "viewer"])
    assert _user_state(TENANT_B, "staff") == (True, ["staff"])


def test_admin_promotes_user_to_admin_which_grants_the_admin_site(api_client):
    outsider_id = PERSONAS["outsider"][0]

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/users/{outsider_id}/", {"roles": ["tenant_admin"]}, format="json"
    )

    assert response.status_code == 200
    with in_tenant(TENANT_A):
        assert persona(TENANT_A, "outsider").is_staff is True


def test_patch_with_unknown_role_is_400_and_changes_nothing(api_client):
    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/users/{PERSONAS['staff'][0]}/", {"roles": ["viewer", "wizard"]}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "accounts.unknown_role"
    assert _user_state(TENANT_A, "staff") == (True, ["staff"])


def test_patch_changes_profile_and_password(api_client):
    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/users/{PERSONAS['staff'][0]}/",
        {"first_name": "Stella", "password": "a-new-password-1"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["first_name"] == "Stella"
    assert "password" not in response.json()
    assert _login_status(api_client, TENANT_A, "staff", PASSWORD) == 401
    assert _login_status(api_client, TENANT_A, "staff", "a-new-password-1") == 200


def test_delete_deactivates_and_keeps_the_row(api_client):
    staff_client = api_client(TENANT_A, "staff")

    response = api_client(TENANT_A, "admin").delete(f"/api/v1/users/{PERSONAS['staff'][0]}/")

    assert response.status_code == 204
    assert _user_state(TENANT_A, "staff") == (False, ["staff"])
    assert _user_state(TENANT_B, "staff") == (True, ["staff"])
    assert _login_status(api_client, TENANT_A, "staff", PASSWORD) == 401
    assert staff_client.get("/api/v1/me/").status_code == 401


def test_removing_the_last_admin_role_is_409(api_client):
    _only_admin_left()

    response = api_client(TENANT_A, "admin").patch(
        f"/api/v1/users/{PERSONAS['admin'][0]}/", {"roles": ["staff"]}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "accounts.last_admin"
    assert _user_state(TENANT_A, "admin") == (True, ["tenant_admin"])


@pytest.mark.parametrize(("method", "payload"), [("delete", None), ("patch", {"is_active": False})])
def test_deactivating_the_last_admin_is_409(api_client, method, payload):
    _only_admin_left()
    client = api_client(TENANT_A, "admin")

    response = getattr(client, method)(
        f"/api/v1/users/{PERSONAS['admin'][0]}/", payload, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "accounts.last_admin"
    assert _user_state(TENANT_A, "admin") == (True, ["tenant_admin"])


def test_admin_can_be_deactivated_while_another_admin_is_active(api_client):
    response = api_client(TENANT_A, "admin").delete(f"/api/v1/users/{PERSONAS['admin'][0]}/")

    assert response.status_code == 204
    assert _user_state(TENANT_A, "admin") == (False, ["tenant_admin"])


@pytest.mark.parametrize("name", ["staff", "outsider"])
@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("patch", {"roles": ["tenant_admin"]}), ("delete", None)],
)
def test_non_admins_cannot_read_or_change_users(api_client, name, method, payload):
    client = api_client(TENANT_A, name)

    response = getattr(client, method)(
        f"/api/v1/users/{PERSONAS['staff'][0]}/", payload, format="json"
    )

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert _user_state(TENANT_A, "staff") == (True, ["staff"])


def test_user_editor_without_assign_role_cannot_change_roles(api_client):
    from django.contrib.auth.models import Permission

    with in_tenant(TENANT_A):
        editor = Role.objects.create(slug="user_editor", name="User editor")
        editor.permissions.set(
            Permission.objects.filter(
                content_type__app_label="accounts", codename__in=["view_user", "change_user"]
            )
        )
        persona(TENANT_A, "outsider").roles.set([editor])
    client = api_client(TENANT_A, "outsider")

    denied = client.patch(
        f"/api/v1/users/{PERSONAS['outsider'][0]}/", {"roles": ["tenant_admin"]}, format="json"
    )
    allowed = client.patch(
        f"/api/v1/users/{PERSONAS['staff'][0]}/", {"last_name": "Renamed"}, format="json"
    )

    assert denied.status_code == 403
    assert error_code(denied) == "permission_denied"
    assert _user_state(TENANT_A, "outsider") == (True, ["user_editor"])
    assert allowed.status_code == 200
    assert allowed.json()["last_name"] == "Renamed"


# --- Across tenants ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("patch", {"is_active": False}), ("delete", None)],
)
def test_alpha_user_is_not_found_on_beta(api_client, method, payload):
    with in_tenant(TENANT_A):
        newcomer = User.objects.create(username="newcomer")
    client = api_client(TENANT_B, "admin")

    response = getattr(client, method)(f"/api/v1/users/{newcomer.pk}/", payload, format="json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert _user_state(TENANT_A, "newcomer") == (True, [])


def test_shared_persona_id_only_reaches_the_own_tenants_row(api_client):
    response = api_client(TENANT_B, "admin").delete(f"/api/v1/users/{PERSONAS['staff'][0]}/")

    assert response.status_code == 204
    assert _user_state(TENANT_B, "staff") == (False, ["staff"])
    assert _user_state(TENANT_A, "staff") == (True, ["staff"])


# --- Listing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["staff", "outsider"])
def test_non_admins_cannot_list_users(api_client, name):
    response = api_client(TENANT_A, name).get("/api/v1/users/")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_list_orders_by_username(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/users/?ordering=username")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert [user["username"] for user in body["results"]] == ALPHA_USERNAMES
    assert body["next"] is None
    assert body["previous"] is None


def test_list_orders_by_username_descending(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/users/?ordering=-username")

    assert [user["username"] for user in response.json()["results"]] == ALPHA_USERNAMES[::-1]


@pytest.mark.parametrize(
    ("is_active", "expected"),
    [("false", ["staff"]), ("true", ["admin", "first-admin", "outsider"])],
)
def test_list_filters_on_is_active(api_client, is_active, expected):
    with in_tenant(TENANT_A):
        User.objects.filter(username="staff").update(is_active=False)

    response = api_client(TENANT_A, "admin").get(
        f"/api/v1/users/?is_active={is_active}&ordering=username"
    )

    assert response.status_code == 200
    assert [user["username"] for user in response.json()["results"]] == expected


def test_list_filters_on_username(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/users/?username=outsider")

    assert [user["username"] for user in response.json()["results"]] == ["outsider"]


@pytest.mark.parametrize("ordering", ["username", "-created_at", None])
def test_cursor_pagination_walks_every_user_one_page_at_a_time(api_client, ordering):
    client = api_client(TENANT_A, "admin")
    url = "/api/v1/users/?page_size=1" + (f"&ordering={ordering}" if ordering else "")
    pages = []

    while url is not None:
        body = client.get(url).json()
        pages.append([user["username"] for user in body["results"]])
        url = body["next"]
        assert len(pages) <= len(ALPHA_USERNAMES)

    assert [len(page) for page in pages] == [1] * len(ALPHA_USERNAMES)
    usernames = [page[0] for page in pages]
    assert sorted(usernames) == ALPHA_USERNAMES
    if ordering == "username":
        assert usernames == ALPHA_USERNAMES


def test_cursor_pagination_previous_link_goes_back(api_client):
    client = api_client(TENANT_A, "admin")
    first = client.get("/api/v1/users/?page_size=1&ordering=username").json()
    second = client.get(first["next"]).json()

    back = client.get(second["previous"]).json()

    assert first["previous"] is None
    assert second["next"].startswith("http://alpha.localhost/api/v1/users/?cursor=")
    assert [user["username"] for user in second["results"]] == ["first-admin"]
    assert [user["username"] for user in back["results"]] == ["admin"]


def test_list_ignores_ordering_on_a_field_not_offered(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/users/?ordering=password")

    assert response.status_code == 200
    assert sorted(user["username"] for user in response.json()["results"]) == ALPHA_USERNAMES
    assert "password" not in response.json()["results"][0]
