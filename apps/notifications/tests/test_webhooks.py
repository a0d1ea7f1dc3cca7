"""Provider webhooks with real signatures: an ECDSA key pair made here for SendGrid,
Twilio's own RequestValidator for Twilio. No network."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

from apps.core import tenancy
from apps.notifications.models import Delivery, DeliveryEvent
from apps.notifications.tests.conftest import error_code
from apps.notifications.tests.factories import ChannelProviderFactory, DeliveryFactory
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

SENDGRID_PATH = "/api/v1/notifications/webhooks/sendgrid/"
TWILIO_PATH = "/api/v1/notifications/webhooks/twilio/"
TIMESTAMP = "1700000000"


def _key_pair() -> tuple[ec.EllipticCurvePrivateKey, str]:
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_key, base64.b64encode(public_der).decode()


def _sign(private_key: ec.EllipticCurvePrivateKey, body: bytes) -> str:
    signature = private_key.sign(TIMESTAMP.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


@pytest.fixture
def sendgrid_keys():
    """A SendGrid provider in each tenant, each with its own webhook key pair."""
    keys = {}
    for schema_name in (TENANT_A, TENANT_B):
        private_key, public_key = _key_pair()
        with tenancy.in_tenant(schema_name):
            ChannelProviderFactory(
                channel="email",
                kind="sendgrid",
                settings={"from_email": "noreply@example.test", "webhook_public_key": public_key},
                secret="SG.key-000000001",
            )
        keys[schema_name] = private_key
    return keys


def _sendgrid_delivery(schema_name: str, message_id: str = "sgmsg1") -> Delivery:
    with tenancy.in_tenant(schema_name):
        return DeliveryFactory(
            channel="email", status="sent", provider="sendgrid", provider_message_id=message_id
        )


def _event(delivery: Delivery, event: str, event_id: str, **extra) -> dict:
    return {
        "email": "ada@example.test",
        "timestamp": 1700000000,
        "event": event,
        "sg_event_id": event_id,
        "sg_message_id": f"{delivery.provider_message_id}.filter0001.1.0",
        "delivery_id": str(delivery.pk),
        **extra,
    }


def _post_sendgrid(api_client, schema_name, body: bytes, signature: str | None):
    headers = {"HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": TIMESTAMP}
    if signature is not None:
        headers["HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE"] = signature
    return api_client(schema_name).generic(
        "POST", SENDGRID_PATH, body, content_type="application/json", **headers
    )


def _status(schema_name: str, delivery: Delivery) -> str:
    with tenancy.in_tenant(schema_name):
        return Delivery.objects.get(pk=delivery.pk).status


def _event_count(schema_name: str) -> int:
    with tenancy.in_tenant(schema_name):
        return DeliveryEvent.objects.count()


def test_signed_sendgrid_events_update_the_delivery(api_client, sendgrid_keys):
    delivery = _sendgrid_delivery(TENANT_A)
    body = json.dumps(
        [_event(delivery, "processed", "e1"), _event(delivery, "delivered", "e2")]
    ).encode()

    response = _post_sendgrid(api_client, TENANT_A, body, _sign(sendgrid_keys[TENANT_A], body))

    assert response.status_code == 204, response.content
    assert _status(TENANT_A, delivery) == "delivered"
    with tenancy.in_tenant(TENANT_A):
        events = list(DeliveryEvent.objects.values_list("external_id", "raw_status", "status"))
    assert events == [("e1", "processed", "sent"), ("e2", "delivered", "delivered")]


def test_sendgrid_event_found_by_message_id_alone(api_client, sendgrid_keys):
    delivery = _sendgrid_delivery(TENANT_A, message_id="onlyid")
    event = _event(delivery, "bounce", "e1", reason="550 no such user")
    del event["delivery_id"]
    body = json.dumps([event]).encode()

    response = _post_sendgrid(api_client, TENANT_A, body, _sign(sendgrid_keys[TENANT_A], body))

    assert response.status_code == 204
    with tenancy.in_tenant(TENANT_A):
        stored = Delivery.objects.get(pk=delivery.pk)
    assert stored.status == "bounced"
    assert stored.last_error == "sendgrid bounce: 550 no such user"


def test_replayed_and_late_events_change_nothing(api_client, sendgrid_keys):
    delivery = _sendgrid_delivery(TENANT_A)
    delivered = json.dumps([_event(delivery, "delivered", "e1")]).encode()
    late = json.dumps([_event(delivery, "processed", "e0")]).encode()
    key = sendgrid_keys[TENANT_A]
    _post_sendgrid(api_client, TENANT_A, delivered, _sign(key, delivered))

    replay = _post_sendgrid(api_client, TENANT_A, delivered, _sign(key, delivered))
    late_response = _post_sendgrid(api_client, TENANT_A, late, _sign(key, late))

    assert (replay.status_code, late_response.status_code) == (204, 204)
    assert _status(TENANT_A, delivery) == "delivered"
    assert _event_count(TENANT_A) == 2  # e1 once, and e0 recorded without effect


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "%%%"])
def test_unsigned_or_badly_signed_sendgrid_post_is_403(api_client, sendgrid_keys, signature):
    delivery = _sendgrid_delivery(TENANT_A)
    body = json.dumps([_event(delivery, "delivered", "e1")]).encode()

    response = _post_sendgrid(api_client, TENANT_A, body, signature)

    assert response.status_code == 403
    assert error_code(response) == "notifications.bad_signature"
    assert _status(TENANT_A, delivery) == "sent"
    assert _event_count(TENANT_A) == 0


def test_sendgrid_signature_over_another_body_is_403(api_client, sendgrid_keys):
    delivery = _sendgrid_delivery(TENANT_A)
    signed = json.dumps([_event(delivery, "processed", "e1")]).encode()
    sent = json.dumps([_event(delivery, "bounce", "e1")]).encode()

    response = _post_sendgrid(api_client, TENANT_A, sent, _sign(sendgrid_keys[TENANT_A], signed))

    assert response.status_code == 403
    assert _status(TENANT_A, delivery) == "sent"


def test_tenant_without_a_sendgrid_key_refuses_every_post(api_client):
    private_key, _ = _key_pair()
    body = b"[]"

    response = _post_sendgrid(api_client, TENANT_A, body, _sign(private_key, body))

    assert response.status_code == 403
    assert error_code(response) == "notifications.bad_signature"


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"event": "delivered"}', b"[1, 2]", b'[{"event": "delivered"}]'],
    ids=["not-json", "object", "scalars", "no-event-id"],
)
def test_signed_but_malformed_sendgrid_body_is_400(api_client, sendgrid_keys, body):
    response = _post_sendgrid(api_client, TENANT_A, body, _sign(sendgrid_keys[TENANT_A], body))

    assert response.status_code == 400
    assert error_code(response) == "notifications.malformed_webhook"


def test_sendgrid_key_of_another_tenant_does_not_verify_here(api_client, sendgrid_keys):
    delivery = _sendgrid_delivery(TENANT_A)
    body = json.dumps([_event(delivery, "delivered", "e1")]).encode()

    response = _post_sendgrid(api_client, TENANT_A, body, _sign(sendgrid_keys[TENANT_B], body))

    assert response.status_code == 403
    assert _status(TENANT_A, delivery) == "sent"


def test_sendgrid_events_about_another_tenants_delivery_touch_nothing(api_client, sendgrid_keys):
    beta_delivery = _sendgrid_delivery(TENANT_B, message_id="shared-id")
    body = json.dumps([_event(beta_delivery, "bounce", "e1")]).encode()

    # Validly signed for alpha, naming beta's delivery id and message id.
    response = _post_sendgrid(api_client, TENANT_A, body, _sign(sendgrid_keys[TENANT_A], body))

    assert response.status_code == 204
    assert _status(TENANT_B, beta_delivery) == "sent"
    assert (_event_count(TENANT_A), _event_count(TENANT_B)) == (0, 0)


# --- Twilio ----------------------------------------------------------------------------------

AUTH_TOKENS = {TENANT_A: "alpha-twilio-token-1", TENANT_B: "beta-twilio-token-22"}


@pytest.fixture
def twilio_accounts():
    for schema_name, token in AUTH_TOKENS.items():
        with tenancy.in_tenant(schema_name):
            ChannelProviderFactory(
                channel="sms",
                kind="twilio",
                settings={"account_sid": "AC" + "0" * 32, "from_number": "+15550001111"},
                secret=token,
            )


def _twilio_delivery(schema_name: str, sid: str = "SM1") -> Delivery:
    with tenancy.in_tenant(schema_name):
        return DeliveryFactory(
            channel="sms",
            address="+15550002222",
            status="sent",
            provider="twilio",
            provider_message_id=sid,
        )


def _post_twilio(api_client, schema_name, params, *, token=None, query="", scheme="http"):
    path = TWILIO_PATH + (f"?{query}" if query else "")
    host = {TENANT_A: "alpha.localhost", TENANT_B: "beta.localhost"}[schema_name]
    headers = {}
    if token is not None:
        url = f"{scheme}://{host}{path}"
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(token).compute_signature(url, params)
    return api_client(schema_name).generic(
        "POST",
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def _twilio_params(sid: str, status: str, **extra) -> dict:
    return {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "To": "+15550002222",
        **extra,
    }


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_signed_twilio_callback_updates_the_delivery(api_client, twilio_accounts, scheme):
    delivery = _twilio_delivery(TENANT_A)

    response = _post_twilio(
        api_client,
        TENANT_A,
        _twilio_params("SM1", "delivered"),
        token=AUTH_TOKENS[TENANT_A],
        query=f"delivery_id={delivery.pk}",
        scheme=scheme,
    )

    assert response.status_code == 204, response.content
    assert _status(TENANT_A, delivery) == "delivered"


def test_twilio_failure_records_the_error(api_client, twilio_accounts):
    delivery = _twilio_delivery(TENANT_A)
    params = _twilio_params("SM1", "undelivered", ErrorCode="30003", ErrorMessage="Unreachable")

    response = _post_twilio(api_client, TENANT_A, params, token=AUTH_TOKENS[TENANT_A])

    assert response.status_code == 204
    with tenancy.in_tenant(TENANT_A):
        stored = Delivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.last_error) == ("failed", "twilio undelivered: 30003 Unreachable")


def test_twilio_replay_and_regression_change_nothing(api_client, twilio_accounts):
    delivery = _twilio_delivery(TENANT_A)
    token = AUTH_TOKENS[TENANT_A]
    _post_twilio(api_client, TENANT_A, _twilio_params("SM1", "delivered"), token=token)

    replay = _post_twilio(api_client, TENANT_A, _twilio_params("SM1", "delivered"), token=token)
    late = _post_twilio(api_client, TENANT_A, _twilio_params("SM1", "sent"), token=token)
    failed = _post_twilio(api_client, TENANT_A, _twilio_params("SM1", "failed"), token=token)

    assert [r.status_code for r in (replay, late, failed)] == [204, 204, 204]
    assert _status(TENANT_A, delivery) == "delivered"
    with tenancy.in_tenant(TENANT_A):
        assert sorted(DeliveryEvent.objects.values_list("external_id", flat=True)) == [
            "SM1:delivered",
            "SM1:failed",
            "SM1:sent",
        ]


@pytest.mark.parametrize(
    "token", [None, "wrong-token", AUTH_TOKENS[TENANT_B]], ids=["unsigned", "wrong", "other-tenant"]
)
def test_unsigned_or_badly_signed_twilio_callback_is_403(api_client, twilio_accounts, token):
    delivery = _twilio_delivery(TENANT_A)

    response = _post_twilio(api_client, TENANT_A, _twilio_params("SM1", "failed"), token=token)

    assert response.status_code == 403
    assert error_code(response) == "notifications.bad_signature"
    assert _status(TENANT_A, delivery) == "sent"


def test_signed_twilio_callback_without_status_is_400(api_client, twilio_accounts):
    response = _post_twilio(
        api_client, TENANT_A, {"MessageSid": "SM1"}, token=AUTH_TOKENS[TENANT_A]
    )

    assert response.status_code == 400
    assert error_code(response) == "notifications.malformed_webhook"


def test_twilio_callback_naming_another_tenants_delivery_touches_nothing(
    api_client, twilio_accounts
):
    beta_delivery = _twilio_delivery(TENANT_B, sid="SM-beta")

    by_sid = _post_twilio(
        api_client, TENANT_A, _twilio_params("SM-beta", "failed"), token=AUTH_TOKENS[TENANT_A]
    )
    by_id = _post_twilio(
        api_client,
        TENANT_A,
        _twilio_params("SM-beta", "failed"),
        token=AUTH_TOKENS[TENANT_A],
        query=f"delivery_id={beta_delivery.pk}",
    )

    assert (by_sid.status_code, by_id.status_code) == (204, 204)
    assert _status(TENANT_B, beta_delivery) == "sent"
    assert (_event_count(TENANT_A), _event_count(TENANT_B)) == (0, 0)


def test_twilio_callback_with_a_delivery_id_of_another_message_is_ignored(
    api_client, twilio_accounts
):
    delivery = _twilio_delivery(TENANT_A, sid="SM-right")

    response = _post_twilio(
        api_client,
        TENANT_A,
        _twilio_params("SM-wrong", "failed"),
        token=AUTH_TOKENS[TENANT_A],
        query=f"delivery_id={delivery.pk}",
    )

    assert response.status_code == 204
    assert _status(TENANT_A, delivery) == "sent"


def test_twilio_callback_before_the_sid_is_recorded_finds_the_delivery_by_id(
    api_client, twilio_accounts
):
    with tenancy.in_tenant(TENANT_A):
        delivery = DeliveryFactory(channel="sms", address="+15550002222")  # still queued

    response = _post_twilio(
        api_client,
        TENANT_A,
        _twilio_params("SM9", "sent"),
        token=AUTH_TOKENS[TENANT_A],
        query=f"delivery_id={delivery.pk}",
    )

    assert response.status_code == 204
    assert _status(TENANT_A, delivery) == "sent"
