"""Provider status webhooks: signature checks and the mapping of provider statuses.

Both webhooks run on the tenant's own host, so every lookup happens in that tenant's
schema with that tenant's keys: a report signed for another tenant does not verify here,
and a delivery id of another tenant does not exist here.
"""

from __future__ import annotations

import binascii
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from twilio.request_validator import RequestValidator

from apps.notifications import selectors, services
from apps.notifications.crypto import secret_decrypt
from apps.notifications.errors import (
    BadSignatureError,
    MalformedWebhookError,
    SecretUnreadableError,
)
from apps.notifications.models import Channel, ChannelProvider, Delivery

logger = logging.getLogger("tenantry.notifications")

# sendgrid.helpers.eventwebhook.EventWebhookHeader's values, spelled out: importing it
# would load all of sendgrid at start-up (a test checks they still agree).
SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"

# Provider status -> ours; None records the report without moving the status.
SENDGRID_STATUSES: dict[str, str | None] = {
    "processed": Delivery.Status.SENT,
    "deferred": None,
    "delivered": Delivery.Status.DELIVERED,
    "bounce": Delivery.Status.BOUNCED,
    "blocked": Delivery.Status.BOUNCED,
    "dropped": Delivery.Status.FAILED,
}
TWILIO_STATUSES: dict[str, str | None] = {
    "sent": Delivery.Status.SENT,
    "delivered": Delivery.Status.DELIVERED,
    "read": Delivery.Status.DELIVERED,
    "undelivered": Delivery.Status.FAILED,
    "failed": Delivery.Status.FAILED,
    "canceled": Delivery.Status.FAILED,
}


@dataclass(frozen=True)
class WebhookResult:
    recorded: int
    ignored: int


# --- SendGrid Signed Event Webhook ----------------------------------------------------------


def sendgrid_public_key_load(text: str) -> EllipticCurvePublicKey:
    """The verification key as SendGrid shows it (base64 DER), or as a PEM block.

    Raises ValueError when it is not an elliptic-curve public key.
    """
    # Imported here, not at module level: sendgrid would slow every process's start-up.
    from sendgrid.helpers.eventwebhook import EventWebhook

    lines = [line.strip() for line in text.strip().splitlines()]
    body = "".join(line for line in lines if line and not line.startswith("-----"))
    try:
        key = EventWebhook().convert_public_key_to_ecdsa(body)
    except (ValueError, TypeError, binascii.Error) as error:
        raise ValueError("Not a public key.") from error
    if not isinstance(key, EllipticCurvePublicKey):
        raise ValueError("Not an elliptic-curve (ECDSA) public key.")
    return key


def _sendgrid_keys() -> list[EllipticCurvePublicKey]:
    keys = []
    for config in selectors.channel_providers_of_kind(kind=ChannelProvider.Kind.SENDGRID):
        settings = config.settings if isinstance(config.settings, dict) else {}
        text = settings.get("webhook_public_key")
        if not text or not isinstance(text, str):
            continue
        try:
            keys.append(sendgrid_public_key_load(text))
        except ValueError:
            logger.warning("SendGrid provider %s has an unreadable webhook key", config.pk)
    return keys


def sendgrid_verify(*, body: bytes, signature: str, timestamp: str) -> None:
    """ECDSA P-256 over ``timestamp + body`` with one of the tenant's SendGrid keys.

    Raises BadSignatureError when the headers are missing, the tenant has no key, or no
    key verifies the signature.
    """
    # Imported here, not at module level: sendgrid would slow every process's start-up.
    from sendgrid.helpers.eventwebhook import EventWebhook

    if not signature or not timestamp:
        raise BadSignatureError()
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadSignatureError() from error
    verifier = EventWebhook()
    for key in _sendgrid_keys():
        try:
            if verifier.verify_signature(payload, signature, timestamp, public_key=key):
                return
        except (binascii.Error, ValueError, InvalidSignature):
            continue
    raise BadSignatureError()


def _sendgrid_events(body: bytes) -> list[dict[str, Any]]:
    try:
        events = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedWebhookError(reason="not JSON") from error
    if not isinstance(events, list):
        raise MalformedWebhookError(reason="expected a JSON array of events")
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise MalformedWebhookError(reason="an event is not an object", index=index)
        for name in ("event", "sg_event_id"):
            if not isinstance(event.get(name), str) or not event[name]:
                raise MalformedWebhookError(reason=f"an event has no {name}", index=index)
    return events


def sendgrid_events_process(*, body: bytes) -> WebhookResult:
    """Record a verified batch of SendGrid events; each event id counts once."""
    recorded = ignored = 0
    for event in _sendgrid_events(body):
        raw_status = event["event"]
        if raw_status == "bounce" and event.get("type") == "blocked":
            raw_status = "blocked"
        message_id = event.get("sg_message_id")
        message_id = message_id.split(".")[0] if isinstance(message_id, str) else ""
        delivery_id = event.get("delivery_id")
        delivery = selectors.delivery_for_report(
            channels=[Channel.EMAIL],
            provider=ChannelProvider.Kind.SENDGRID,
            provider_message_id=message_id,
            delivery_id=delivery_id if isinstance(delivery_id, str) else None,
        )
        if delivery is None:
            ignored += 1
            continue
        error = str(event.get("reason") or event.get("response") or "")
        is_new = services.delivery_event_record(
            delivery=delivery,
            provider=ChannelProvider.Kind.SENDGRID,
            external_id=event["sg_event_id"],
            raw_status=raw_status,
            status=SENDGRID_STATUSES.get(raw_status),
            error=f"sendgrid {raw_status}: {error}" if error else "",
            payload=_small(event),
        )
        recorded += int(is_new)
        ignored += int(not is_new)
    return WebhookResult(recorded=recorded, ignored=ignored)


# --- Twilio status callback -----------------------------------------------------------------


def _twilio_tokens() -> list[str]:
    tokens = []
    for config in selectors.channel_providers_of_kind(kind=ChannelProvider.Kind.TWILIO):
        try:
            token = secret_decrypt(config.secret_encrypted)
        except SecretUnreadableError:
            logger.warning("Twilio provider %s has an unreadable auth token", config.pk)
            continue
        if token:
            tokens.append(token)
    return tokens


def twilio_verify(*, urls: Iterable[str], params: Any, signature: str) -> None:
    """X-Twilio-Signature (HMAC-SHA1 of the full URL and the sorted form fields, keyed
    with the auth token) checked against the tenant's Twilio auth tokens.

    ``urls`` are the spellings the request may have been signed under (behind a proxy
    that ends TLS, Django may see http where Twilio called https).
    """
    if not signature:
        raise BadSignatureError()
    for token in _twilio_tokens():
        validator = RequestValidator(token)
        if any(validator.validate(url, params, signature) for url in urls):
            return
    raise BadSignatureError()


def twilio_status_process(*, params: Mapping[str, Any], delivery_id: str | None) -> WebhookResult:
    """Record a verified Twilio status callback; the same sid and status count once."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    raw_status = params.get("MessageStatus") or params.get("SmsStatus")
    if not isinstance(sid, str) or not sid or not isinstance(raw_status, str) or not raw_status:
        raise MalformedWebhookError(reason="MessageSid and MessageStatus are required")
    delivery = selectors.delivery_for_report(
        channels=[Channel.SMS, Channel.WHATSAPP],
        provider=ChannelProvider.Kind.TWILIO,
        provider_message_id=sid,
        delivery_id=delivery_id,
    )
    if delivery is None:
        return WebhookResult(recorded=0, ignored=1)
    error_code = params.get("ErrorCode") or ""
    error_message = params.get("ErrorMessage") or ""
    error = f"twilio {raw_status}: {error_code} {error_message}".strip() if error_code else ""
    is_new = services.delivery_event_record(
        delivery=delivery,
        provider=ChannelProvider.Kind.TWILIO,
        external_id=f"{sid}:{raw_status}",
        raw_status=raw_status,
        status=TWILIO_STATUSES.get(raw_status),
        error=error,
        payload=_small(params),
    )
    return WebhookResult(recorded=int(is_new), ignored=int(not is_new))


def _small(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What is worth keeping of a report: short scalar fields only."""
    kept: dict[str, Any] = {}
    for key, value in list(payload.items())[:50]:
        if isinstance(value, str):
            kept[str(key)[:64]] = value[:500]
        elif isinstance(value, int | float | bool) or value is None:
            kept[str(key)[:64]] = value
    return kept
