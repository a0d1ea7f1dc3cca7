from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core import tenancy
from apps.notifications import services
from apps.notifications.errors import ProviderUnavailableError
from apps.notifications.models import Delivery
from apps.notifications.tasks import deliver
from apps.notifications.tests.factories import ChannelProviderFactory, DeliveryFactory
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db

ACCOUNT_SID = "AC00000000000000000000000000000001"


@pytest.fixture
def sms_delivery(in_tenant_a):
    ChannelProviderFactory(
        channel="sms",
        kind="twilio",
        settings={"account_sid": ACCOUNT_SID, "from_number": "+15550001111"},
        secret="auth-token-1234",
    )
    return DeliveryFactory(channel="sms", address="+15550002222", subject="", body="Approved")


def _run(delivery: Delivery) -> None:
    deliver(schema_name=TENANT_A, delivery_id=str(delivery.pk))


def test_delivering_twice_sends_once(sms_delivery, twilio_http):
    http = twilio_http(body={"sid": "SM42", "status": "queued"})

    _run(sms_delivery)
    _run(sms_delivery)

    assert len(http.requests) == 1
    sms_delivery.refresh_from_db()
    assert (sms_delivery.status, sms_delivery.provider, sms_delivery.provider_message_id) == (
        "sent",
        "twilio",
        "SM42",
    )
    assert sms_delivery.attempts == 1
    assert sms_delivery.sent_at is not None
    assert sms_delivery.claimed_at is None


def test_status_callback_points_at_the_tenants_own_host(sms_delivery, twilio_http):
    http = twilio_http()

    _run(sms_delivery)

    assert http.requests[0]["data"]["StatusCallback"] == (
        "https://alpha.localhost/api/v1/notifications/webhooks/twilio/"
        f"?delivery_id={sms_delivery.pk}"
    )


def test_transient_error_is_raised_for_retry_and_leaves_the_delivery_queued(
    sms_delivery, twilio_http
):
    twilio_http(status=503, body={"code": 20503, "message": "Service unavailable"})

    with pytest.raises(ProviderUnavailableError):
        _run(sms_delivery)

    sms_delivery.refresh_from_db()
    assert (sms_delivery.status, sms_delivery.attempts, sms_delivery.claimed_at) == (
        "queued",
        1,
        None,
    )
    assert sms_delivery.last_error.startswith("notifications.provider_unavailable")


def test_retries_stop_after_the_last_attempt_with_a_failed_delivery(sms_delivery, twilio_http):
    http = twilio_http(status=503, body={"code": 20503, "message": "Service unavailable"})

    # Eager apply runs Celery's own retry loop in-process (countdowns are skipped).
    result = deliver.apply(kwargs={"schema_name": TENANT_A, "delivery_id": str(sms_delivery.pk)})

    assert result.successful()
    assert len(http.requests) == services.MAX_ATTEMPTS
    with tenancy.in_tenant(TENANT_A):
        sms_delivery.refresh_from_db()
    assert (sms_delivery.status, sms_delivery.attempts) == ("failed", services.MAX_ATTEMPTS)


def test_permanent_error_fails_the_delivery_without_retry(sms_delivery, twilio_http):
    http = twilio_http(status=400, body={"code": 21211, "message": "Invalid 'To' Phone Number"})

    _run(sms_delivery)
    _run(sms_delivery)

    assert len(http.requests) == 1
    sms_delivery.refresh_from_db()
    assert sms_delivery.status == "failed"
    assert "21211" in sms_delivery.last_error
    assert sms_delivery.last_error.startswith("notifications.provider_rejected")


def test_misconfigured_provider_fails_the_delivery(in_tenant_a, twilio_http):
    http = twilio_http()
    ChannelProviderFactory(channel="sms", kind="twilio", settings={}, secret="auth-token-1234")
    delivery = DeliveryFactory(channel="sms", address="+15550002222")

    _run(delivery)

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("notifications.provider_misconfigured")
    assert http.requests == []


def test_delivery_claimed_by_a_live_worker_is_left_alone(sms_delivery, twilio_http):
    http = twilio_http()
    Delivery.objects.filter(pk=sms_delivery.pk).update(claimed_at=timezone.now())

    _run(sms_delivery)

    assert http.requests == []


def test_claim_of_a_dead_worker_expires(sms_delivery, twilio_http):
    http = twilio_http()
    stale = timezone.now() - services.CLAIM_TIMEOUT - timedelta(seconds=1)
    Delivery.objects.filter(pk=sms_delivery.pk).update(claimed_at=stale)

    _run(sms_delivery)

    assert len(http.requests) == 1


def test_without_a_provider_the_console_sends(in_tenant_a, caplog):
    delivery = DeliveryFactory(channel="email", address="ada@example.test", subject="Hello")

    _run(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider) == ("sent", "console")
    assert delivery.provider_message_id.startswith("console-")
    assert "Hello" in caplog.text


def test_email_through_sendgrid(in_tenant_a, sendgrid_http):
    opener = sendgrid_http(message_id="sg-77")
    ChannelProviderFactory(
        channel="email",
        kind="sendgrid",
        settings={"from_email": "noreply@example.test"},
        secret="SG.tenant-key",
    )
    delivery = DeliveryFactory(channel="email", address="ada@example.test")

    _run(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider, delivery.provider_message_id) == (
        "sent",
        "sendgrid",
        "sg-77",
    )
    assert opener.requests[0].get_header("Authorization") == "Bearer SG.tenant-key"


def test_task_without_tenant_is_refused(sms_delivery, twilio_http):
    from apps.core.errors import TenantContextMissingError

    http = twilio_http()

    with pytest.raises(TenantContextMissingError):
        deliver(schema_name="public", delivery_id=str(sms_delivery.pk))

    assert http.requests == []


def test_delivery_id_of_another_tenant_sends_nothing(twilio_http, in_tenant_b):
    http = twilio_http()
    ChannelProviderFactory(
        channel="sms",
        kind="twilio",
        settings={"account_sid": ACCOUNT_SID, "from_number": "+15550001111"},
        secret="auth-token-1234",
    )
    beta_delivery = DeliveryFactory(channel="sms", address="+15550002222")

    _run(beta_delivery)  # in alpha's schema

    assert http.requests == []
    beta_delivery.refresh_from_db()
    assert (beta_delivery.status, beta_delivery.attempts) == ("queued", 0)
