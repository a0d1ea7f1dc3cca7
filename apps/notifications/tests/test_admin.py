from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.core import tenancy
from apps.notifications.crypto import secret_decrypt
from apps.notifications.models import ChannelProvider, Delivery
from apps.notifications.tests.factories import ChannelProviderFactory, DeliveryFactory
from tests.personas import HOSTS, PASSWORD, TENANT_A

pytestmark = pytest.mark.django_db

SECRET = "SG.very-secret-api-key-98761234"
PROVIDERS = "/admin/notifications/channelprovider/"


@pytest.fixture
def admin_client() -> Client:
    client = Client(HTTP_HOST=HOSTS[TENANT_A])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def sendgrid_provider() -> ChannelProvider:
    with tenancy.in_tenant(TENANT_A):
        return ChannelProviderFactory(
            channel="email",
            kind="sendgrid",
            settings={"from_email": "noreply@example.test"},
            secret=SECRET,
        )


def _form(**overrides) -> dict:
    return {
        "channel": "email",
        "kind": "sendgrid",
        "is_active": "on",
        "settings": json.dumps({"from_email": "noreply@example.test"}),
        "secret": "",
        **overrides,
    }


def _stored_secret(provider: ChannelProvider) -> str:
    with tenancy.in_tenant(TENANT_A):
        return secret_decrypt(ChannelProvider.objects.get(pk=provider.pk).secret_encrypted)


def test_change_page_shows_only_the_masked_tail(admin_client, sendgrid_provider):
    response = admin_client.get(f"{PROVIDERS}{sendgrid_provider.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "••••1234" in page
    assert SECRET not in page
    assert sendgrid_provider.secret_encrypted not in page


def test_list_page_shows_only_the_masked_tail(admin_client, sendgrid_provider):
    page = admin_client.get(PROVIDERS).content.decode()

    assert "••••1234" in page
    assert SECRET not in page


def test_empty_secret_field_keeps_the_stored_secret(admin_client, sendgrid_provider):
    response = admin_client.post(
        f"{PROVIDERS}{sendgrid_provider.pk}/change/",
        _form(settings=json.dumps({"from_email": "changed@example.test"})),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert _stored_secret(sendgrid_provider) == SECRET
    with tenancy.in_tenant(TENANT_A):
        provider = ChannelProvider.objects.get(pk=sendgrid_provider.pk)
    assert provider.settings == {"from_email": "changed@example.test"}


def test_a_new_secret_replaces_the_old_one(admin_client, sendgrid_provider):
    response = admin_client.post(
        f"{PROVIDERS}{sendgrid_provider.pk}/change/", _form(secret="SG.new-key-00005678")
    )

    assert response.status_code == 302
    assert _stored_secret(sendgrid_provider) == "SG.new-key-00005678"


def test_changing_the_kind_needs_the_new_kinds_secret(admin_client, sendgrid_provider):
    response = admin_client.post(
        f"{PROVIDERS}{sendgrid_provider.pk}/change/",
        _form(
            channel="sms",
            kind="twilio",
            settings=json.dumps({"account_sid": "AC1", "from_number": "+15550001111"}),
        ),
    )

    assert response.status_code == 200
    assert "Enter the Twilio auth token." in response.content.decode()
    assert _stored_secret(sendgrid_provider) == SECRET


def test_add_validates_settings_for_the_kind(admin_client):
    response = admin_client.post(
        f"{PROVIDERS}add/", _form(settings=json.dumps({"api_key": "oops"}), secret=SECRET)
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Unknown setting &#x27;api_key&#x27;." in page
    assert "Missing setting &#x27;from_email&#x27;" in page
    with tenancy.in_tenant(TENANT_A):
        assert not ChannelProvider.objects.exists()


def test_add_stores_the_secret_encrypted(admin_client):
    response = admin_client.post(f"{PROVIDERS}add/", _form(secret=SECRET))

    assert response.status_code == 302
    with tenancy.in_tenant(TENANT_A):
        provider = ChannelProvider.objects.get()
    assert SECRET not in provider.secret_encrypted
    assert secret_decrypt(provider.secret_encrypted) == SECRET


def test_bad_sendgrid_webhook_key_is_refused(admin_client):
    settings = {"from_email": "noreply@example.test", "webhook_public_key": "bm90IGEga2V5"}

    response = admin_client.post(
        f"{PROVIDERS}add/", _form(settings=json.dumps(settings), secret=SECRET)
    )

    assert response.status_code == 200
    assert "webhook_public_key" in response.content.decode()


def test_delivery_log_is_read_only(admin_client):
    with tenancy.in_tenant(TENANT_A):
        delivery = DeliveryFactory(body="<p>one-time code 424242</p>")
    path = f"/admin/notifications/delivery/{delivery.pk}/change/"

    page = admin_client.get(path)
    post = admin_client.post(path, {"status": "delivered"})
    add = admin_client.get("/admin/notifications/delivery/add/")

    assert page.status_code == 200
    assert "424242" not in page.content.decode()
    assert post.status_code == 403
    assert add.status_code == 403
    with tenancy.in_tenant(TENANT_A):
        assert Delivery.objects.get(pk=delivery.pk).status == "queued"


def test_notification_pages_are_not_on_the_operators_host():
    from apps.accounts.models import User

    with tenancy.in_public():
        User.objects.create_superuser(username="operator-n", password=PASSWORD)
    client = Client(HTTP_HOST="localhost")
    client.post("/admin/login/", {"username": "operator-n", "password": PASSWORD})

    response = client.get(PROVIDERS)

    assert response.status_code in (403, 404)
