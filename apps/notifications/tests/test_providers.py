"""The real provider clients, with their HTTP (or SMTP) layer replaced by recorders: the
tests assert the exact request each client would put on the wire."""

from __future__ import annotations

import json
import smtplib
from email import message_from_bytes
from urllib.error import URLError

import pytest

from apps.notifications.errors import (
    ProviderMisconfiguredError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from apps.notifications.providers import OutgoingMessage, provider_build
from apps.notifications.providers.console import ConsoleProvider
from apps.notifications.providers.sendgrid import SendGridProvider
from apps.notifications.providers.smtp import SmtpProvider
from apps.notifications.providers.twilio import TwilioProvider
from apps.notifications.tests.conftest import RecordingTwilioHttp
from apps.notifications.tests.factories import ChannelProviderFactory

EMAIL = OutgoingMessage(
    delivery_id="7b0d3c8e-0000-4000-8000-000000000001",
    channel="email",
    to="ada@example.test",
    subject="Leave approved",
    body="<p>Hi Ada &amp; team</p>",
)
ACCOUNT_SID = "AC00000000000000000000000000000001"
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CALLBACK = "https://alpha.example.test/api/v1/notifications/webhooks/twilio/?delivery_id=1"


# --- SendGrid --------------------------------------------------------------------------------


def test_sendgrid_posts_the_v3_mail_send_request(sendgrid_http):
    opener = sendgrid_http(status=202, message_id="sg-abc123")
    provider = SendGridProvider(settings={"from_email": "noreply@example.test"}, secret="SG.key")

    message_id = provider.send(EMAIL)

    assert message_id == "sg-abc123"
    (request,) = opener.requests
    assert request.get_method() == "POST"
    assert request.full_url == "https://api.sendgrid.com/v3/mail/send"
    assert request.get_header("Authorization") == "Bearer SG.key"
    assert request.get_header("Content-type") == "application/json"
    assert request.get_header("Accept") == "application/json"
    assert json.loads(request.data) == {
        "from": {"email": "noreply@example.test"},
        "subject": "Leave approved",
        "personalizations": [{"to": [{"email": "ada@example.test"}]}],
        "content": [
            {"type": "text/plain", "value": "Hi Ada & team"},
            {"type": "text/html", "value": "<p>Hi Ada &amp; team</p>"},
        ],
        "custom_args": {"delivery_id": EMAIL.delivery_id},
    }
    assert opener.timeouts == [15]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ProviderUnavailableError),
        (503, ProviderUnavailableError),
        (429, ProviderUnavailableError),
        (400, ProviderRejectedError),
        (401, ProviderRejectedError),
        (403, ProviderRejectedError),
    ],
)
def test_sendgrid_errors_are_transient_or_permanent_by_status(sendgrid_http, status, error):
    sendgrid_http(status=status)
    provider = SendGridProvider(settings={"from_email": "noreply@example.test"}, secret="SG.key")

    with pytest.raises(error) as raised:
        provider.send(EMAIL)

    assert f"SendGrid {status}" in raised.value.message


@pytest.mark.parametrize("failure", [URLError("refused"), TimeoutError("timed out")])
def test_sendgrid_network_failures_are_transient(sendgrid_http, failure):
    sendgrid_http(raise_error=failure)
    provider = SendGridProvider(settings={"from_email": "noreply@example.test"}, secret="SG.key")

    with pytest.raises(ProviderUnavailableError):
        provider.send(EMAIL)


def test_sendgrid_without_a_key_never_falls_back_to_the_environment(monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.platform-key")

    with pytest.raises(ProviderMisconfiguredError):
        SendGridProvider(settings={"from_email": "noreply@example.test"}, secret="")


# --- Twilio ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "to", "from_"),
    [
        ("sms", "+15550002222", "+15550001111"),
        ("whatsapp", "whatsapp:+15550002222", "whatsapp:+15550001111"),
    ],
)
def test_twilio_creates_a_message_with_status_callback(channel, to, from_):
    http = RecordingTwilioHttp(body={"sid": "SM1234", "status": "queued"})
    provider = TwilioProvider(
        settings={"account_sid": ACCOUNT_SID, "from_number": "+15550001111"},
        secret="auth-token-1234",
        http_client=http,
    )
    message = OutgoingMessage(
        delivery_id="d1",
        channel=channel,
        to="+15550002222",
        subject="",
        body="Your leave is approved",
        status_callback_url=CALLBACK,
    )

    message_id = provider.send(message)

    assert message_id == "SM1234"
    (request,) = http.requests
    assert request["method"] == "POST"
    assert request["url"] == TWILIO_URL
    assert request["auth"] == (ACCOUNT_SID, "auth-token-1234")
    assert request["data"] == {
        "To": to,
        "From": from_,
        "Body": "Your leave is approved",
        "StatusCallback": CALLBACK,
    }
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ProviderUnavailableError),
        (503, ProviderUnavailableError),
        (429, ProviderUnavailableError),
        (400, ProviderRejectedError),
        (404, ProviderRejectedError),
    ],
)
def test_twilio_errors_are_transient_or_permanent_by_status(status, error):
    http = RecordingTwilioHttp(
        status=status, body={"code": 21211, "message": "Invalid 'To' Phone Number"}
    )
    provider = TwilioProvider(
        settings={"account_sid": ACCOUNT_SID, "from_number": "+15550001111"},
        secret="auth-token-1234",
        http_client=http,
    )
    message = OutgoingMessage(delivery_id="d", channel="sms", to="+1555", subject="", body="x")

    with pytest.raises(error):
        provider.send(message)


# --- SMTP ------------------------------------------------------------------------------------

SMTP_SETTINGS = {
    "host": "smtp.example.test",
    "port": 587,
    "username": "mailer",
    "use_tls": True,
    "from_email": "noreply@example.test",
}


def test_smtp_uses_the_tenants_server_and_credentials(smtp_server):
    provider = SmtpProvider(settings=SMTP_SETTINGS, secret="smtp-password")

    message_id = provider.send(EMAIL)

    (connection,) = smtp_server.instances
    assert (connection.host, connection.port, connection.kwargs["timeout"]) == (
        "smtp.example.test",
        587,
        15,
    )
    assert [name for name, _ in connection.calls] == ["starttls", "login", "sendmail", "quit"]
    assert connection.calls[1][1] == ("mailer", "smtp-password")
    from_addr, to_addrs, raw = connection.calls[2][1]
    assert (from_addr, to_addrs) == ("noreply@example.test", ["ada@example.test"])
    sent = message_from_bytes(raw)
    assert sent["Subject"] == "Leave approved"
    assert sent["Message-ID"] == message_id
    assert message_id.endswith("@example.test>")
    assert sent["X-Tenantry-Delivery"] == EMAIL.delivery_id
    parts = {part.get_content_type(): part.get_payload(decode=True) for part in sent.walk()}
    assert parts["text/plain"].decode() == "Hi Ada & team"
    assert parts["text/html"].decode() == "<p>Hi Ada &amp; team</p>"


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (smtplib.SMTPDataError(451, b"try later"), ProviderUnavailableError),
        (smtplib.SMTPDataError(554, b"rejected"), ProviderRejectedError),
        (
            smtplib.SMTPRecipientsRefused({"ada@example.test": (550, b"no such user")}),
            ProviderRejectedError,
        ),
        (
            smtplib.SMTPRecipientsRefused({"ada@example.test": (452, b"mailbox full")}),
            ProviderUnavailableError,
        ),
        (smtplib.SMTPServerDisconnected("gone"), ProviderUnavailableError),
        (TimeoutError("timed out"), ProviderUnavailableError),
    ],
)
def test_smtp_replies_map_to_transient_or_permanent(smtp_server, failure, error):
    smtp_server.fail_with = failure
    provider = SmtpProvider(settings=SMTP_SETTINGS, secret="smtp-password")

    with pytest.raises(error):
        provider.send(EMAIL)


# --- Choosing a provider ---------------------------------------------------------------------


@pytest.mark.django_db
def test_no_configuration_means_the_console(in_tenant_a, caplog):
    provider = provider_build(None)

    message_id = provider.send(EMAIL)

    assert isinstance(provider, ConsoleProvider)
    assert message_id.startswith("console-")
    assert "Leave approved" in caplog.text


@pytest.mark.django_db
def test_configured_provider_gets_its_decrypted_secret(in_tenant_a):
    config = ChannelProviderFactory(
        channel="sms",
        kind="twilio",
        settings={"account_sid": ACCOUNT_SID, "from_number": "+15550001111"},
        secret="auth-token-1234",
    )

    provider = provider_build(config)

    assert isinstance(provider, TwilioProvider)
    assert provider.auth_token == "auth-token-1234"
    assert "auth-token-1234" not in config.secret_encrypted


@pytest.mark.django_db
def test_incomplete_settings_are_a_configuration_error(in_tenant_a):
    config = ChannelProviderFactory(
        channel="email", kind="sendgrid", settings={}, secret="SG.key-12345678"
    )

    with pytest.raises(ProviderMisconfiguredError) as raised:
        provider_build(config)

    assert "from_email" in raised.value.message
