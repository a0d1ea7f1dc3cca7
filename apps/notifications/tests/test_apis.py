from __future__ import annotations

import pytest

from apps.core import tenancy
from apps.notifications.models import InAppNotification, OptOut
from apps.notifications.tests.conftest import error_code, persona_in
from apps.notifications.tests.factories import DeliveryFactory, InAppNotificationFactory
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications/"
OPT_OUTS = "/api/v1/notifications/opt-outs/"
DELIVERIES = "/api/v1/notifications/deliveries/"


def _notification(schema_name: str, persona: str, title: str) -> InAppNotification:
    with tenancy.in_tenant(schema_name):
        return InAppNotificationFactory(user=persona_in(persona, schema_name), title=title)


def test_list_shows_only_the_callers_own_notifications(api_client):
    mine = _notification(TENANT_A, "admin", "mine")
    _notification(TENANT_A, "staff", "staff's")
    _notification(TENANT_B, "admin", "same user id, other tenant")

    response = api_client(TENANT_A, "admin").get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert [item["title"] for item in body["results"]] == ["mine"]
    assert body["results"][0] == {
        "id": str(mine.pk),
        "event": "leave.approved",
        "title": "mine",
        "body": "Body",
        "is_read": False,
        "created_at": body["results"][0]["created_at"],
        "read_at": None,
    }


def test_list_filters_by_read_state(api_client):
    _notification(TENANT_A, "admin", "unread")
    read = _notification(TENANT_A, "admin", "read")
    api_client(TENANT_A, "admin").post(f"{LIST}{read.pk}/read/")

    unread = api_client(TENANT_A, "admin").get(LIST, {"is_read": "false"})
    bad = api_client(TENANT_A, "admin").get(LIST, {"is_read": "maybe"})
    empty = api_client(TENANT_A, "admin").get(LIST, {"is_read": ""})

    assert [item["title"] for item in unread.json()["results"]] == ["unread"]
    assert (bad.status_code, empty.status_code) == (400, 400)


def test_list_is_cursor_paginated(api_client):
    for number in range(3):
        _notification(TENANT_A, "admin", f"n{number}")

    first = api_client(TENANT_A, "admin").get(LIST, {"page_size": 2}).json()
    second = api_client(TENANT_A, "admin").get(first["next"]).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert second["next"] is None


def test_read_marks_own_notification(api_client):
    notification = _notification(TENANT_A, "staff", "hello")

    response = api_client(TENANT_A, "staff").post(f"{LIST}{notification.pk}/read/")

    assert response.status_code == 200
    assert response.json()["is_read"] is True
    with tenancy.in_tenant(TENANT_A):
        assert InAppNotification.objects.get(pk=notification.pk).read_at is not None


@pytest.mark.parametrize(
    ("owner_schema", "owner"),
    [(TENANT_A, "staff"), (TENANT_B, "admin")],
    ids=["other-user", "other-tenant-same-user-id"],
)
def test_reading_someone_elses_notification_is_404(api_client, owner_schema, owner):
    notification = _notification(owner_schema, owner, "not yours")

    response = api_client(TENANT_A, "admin").post(f"{LIST}{notification.pk}/read/")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    with tenancy.in_tenant(owner_schema):
        assert InAppNotification.objects.get(pk=notification.pk).read_at is None


def test_opt_outs_default_to_none(api_client):
    response = api_client(TENANT_A, "staff").get(OPT_OUTS)

    assert response.status_code == 200
    assert response.json() == {"email": False, "sms": False, "whatsapp": False, "in_app": False}


def test_put_opt_outs_replaces_the_callers_settings(api_client):
    with tenancy.in_tenant(TENANT_A):
        OptOut.objects.create(user=persona_in("staff"), channel="email")
    body = {"email": False, "sms": True, "whatsapp": True, "in_app": False}

    response = api_client(TENANT_A, "staff").put(OPT_OUTS, body, format="json")

    assert response.status_code == 200
    assert response.json() == body
    with tenancy.in_tenant(TENANT_A):
        stored = set(OptOut.objects.values_list("user__username", "channel"))
    assert stored == {("staff", "sms"), ("staff", "whatsapp")}
    with tenancy.in_tenant(TENANT_B):
        assert not OptOut.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": True, "sms": False, "whatsapp": False}, "in_app"),
        ({"email": "yes", "sms": False, "whatsapp": False, "in_app": False}, "email"),
        ({"email": 1, "sms": False, "whatsapp": False, "in_app": False}, "email"),
        ({"email": True, "sms": False, "whatsapp": False, "in_app": False, "fax": True}, "fax"),
    ],
    ids=["missing", "string", "number", "unknown"],
)
def test_invalid_opt_outs_are_refused_and_change_nothing(api_client, body, field):
    response = api_client(TENANT_A, "staff").put(OPT_OUTS, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    with tenancy.in_tenant(TENANT_A):
        assert not OptOut.objects.exists()


def test_admin_reads_the_delivery_log_without_bodies(api_client):
    with tenancy.in_tenant(TENANT_A):
        delivery = DeliveryFactory(event="xt-log", body="<p>reset code 123456</p>")

    response = api_client(TENANT_A, "admin").get(DELIVERIES, {"event": "xt-log"})

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == str(delivery.pk)
    assert row["status"] == "queued"
    assert "body" not in row
    assert "123456" not in response.content.decode()


@pytest.mark.parametrize("query", [{"status": ""}, {"status": "lost"}, {"channel": ""}])
def test_delivery_log_filters_refuse_values_outside_their_choices(api_client, query):
    response = api_client(TENANT_A, "admin").get(DELIVERIES, query)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_delivery_log_needs_the_permission(api_client):
    with tenancy.in_tenant(TENANT_A):
        DeliveryFactory()

    response = api_client(TENANT_A, "outsider").get(DELIVERIES)

    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"permission": "notifications.view_delivery"}


def test_endpoints_need_a_token(api_client):
    response = api_client(TENANT_A).get(LIST)

    assert response.status_code == 401
