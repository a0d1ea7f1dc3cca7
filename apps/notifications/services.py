"""Notifications: request them, send them, record what the providers report back."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.tenancy import current_schema, in_public, require_tenant_schema
from apps.jobs.base import DEFAULT_RETRY
from apps.jobs.dispatch import enqueue
from apps.notifications import (
    providers,
    rendering,
    selectors,
    tasks,  # module import: tasks.py imports services.py back
)
from apps.notifications.crypto import secret_encrypt
from apps.notifications.errors import (
    AddressMissingError,
    DedupeKeyInvalidError,
    ProviderUnavailableError,
    TemplateInvalidError,
    UnknownChannelError,
)
from apps.notifications.models import (
    Channel,
    ChannelProvider,
    Delivery,
    DeliveryEvent,
    InAppNotification,
    NotificationTemplate,
    OptOut,
)
from apps.realtime.publish import publish_event

logger = logging.getLogger("tenantry.notifications")

# One first attempt plus the task's automatic retries.
MAX_ATTEMPTS = int(str(DEFAULT_RETRY["max_retries"])) + 1
# A worker holds a delivery this long while talking to the provider; after that the
# claim is taken to belong to a dead worker and a redelivered task may try again.
CLAIM_TIMEOUT = timedelta(minutes=5)
DEDUPE_KEY_MAX = 200
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# A status only ever moves up this ladder: a late "sent" never undoes "delivered", and
# a replayed "delivered" never undoes "bounced".
STATUS_RANK = {
    Delivery.Status.QUEUED: 0,
    Delivery.Status.SENT: 1,
    Delivery.Status.DELIVERED: 2,
    Delivery.Status.FAILED: 2,
    Delivery.Status.BOUNCED: 2,
    Delivery.Status.OPTED_OUT: 3,
}


@dataclass(frozen=True)
class Recipient:
    """A user, with the addresses to use for them. ``email=None`` means the user's own
    email; users have no phone number of their own, so SMS and WhatsApp need ``phone``."""

    user: Any
    email: str | None = None
    phone: str | None = None

    def address_for(self, channel: str) -> str:
        if channel == Channel.EMAIL:
            email = (self.user.email if self.email is None else self.email).strip()
            return email if EMAIL.match(email) else ""
        if channel in (Channel.SMS, Channel.WHATSAPP):
            phone = (self.phone or "").replace(" ", "")
            return phone if PHONE.match(phone) else ""
        return str(self.user.pk)


def _recipient(value: Any) -> Recipient:
    return value if isinstance(value, Recipient) else Recipient(user=value)


def _recipient_context(user: Any) -> dict[str, str]:
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "full_name": user.get_full_name() or user.username,
    }


@transaction.atomic
def notify(
    *,
    event: str,
    recipients: Sequence[Any],
    context: Mapping[str, Any],
    channels: Sequence[str],
    dedupe_key: str,
) -> list[Delivery]:
    """Record one delivery per recipient and channel and send them after commit.

    ``dedupe_key`` names this notification (say ``f"leave-approved:{leave.pk}"``); a
    delivery whose key (``<dedupe_key>:<channel>:<user id>``) exists already is not made
    again, so calling ``notify`` twice sends once. A channel the user opted out of gets a
    delivery with status ``opted_out``; a missing or invalid address one with ``failed``.
    Channels without an active template for ``event`` are skipped (and logged): a tenant
    chooses an event's channels by writing templates for them. In-app notifications are
    written at once and published to the user; the other channels are sent by the
    ``notifications.deliver`` task. Returns the deliveries this call created.
    """
    require_tenant_schema()
    if not 0 < len(dedupe_key) <= DEDUPE_KEY_MAX:
        raise DedupeKeyInvalidError(length=len(dedupe_key))
    unknown = sorted(set(channels) - set(Channel.values))
    if unknown:
        raise UnknownChannelError(channels=unknown)
    wanted = list(dict.fromkeys(channels))
    templates = selectors.template_map(event=event, channels=wanted)
    for channel in wanted:
        if channel not in templates:
            logger.warning("No active %s template for %s; channel skipped", channel, event)
    people = [_recipient(value) for value in recipients]
    opted_out = selectors.opt_outs_for(
        user_ids=[person.user.pk for person in people], channels=list(templates)
    )
    shared_context = rendering.plain_context(context)

    created: list[Delivery] = []
    for person in people:
        for channel, template in templates.items():
            key = f"{dedupe_key}:{channel}:{person.user.pk}"
            if Delivery.objects.filter(dedupe_key=key).exists():
                continue
            delivery = _delivery_build(
                event=event,
                channel=channel,
                person=person,
                template=template,
                context={**shared_context, "recipient": _recipient_context(person.user)},
                is_opted_out=(person.user.pk, channel) in opted_out,
                dedupe_key=key,
            )
            try:
                with transaction.atomic():
                    delivery.save(force_insert=True)
            except IntegrityError:
                continue  # a concurrent call made it first
            created.append(delivery)
            if delivery.status != Delivery.Status.QUEUED:
                continue
            if channel == Channel.IN_APP:
                _in_app_deliver(delivery)
            else:
                enqueue(tasks.deliver, delivery_id=str(delivery.pk))
    return created


def _delivery_build(
    *,
    event: str,
    channel: str,
    person: Recipient,
    template: NotificationTemplate,
    context: dict[str, Any],
    is_opted_out: bool,
    dedupe_key: str,
) -> Delivery:
    delivery = Delivery(
        event=event,
        channel=channel,
        user=person.user,
        address=person.address_for(channel),
        dedupe_key=dedupe_key,
    )
    if is_opted_out:
        delivery.status = Delivery.Status.OPTED_OUT
        return delivery
    if not delivery.address:
        delivery.status = Delivery.Status.FAILED
        delivery.last_error = _error_text(AddressMissingError(channel=channel))
        return delivery
    try:
        rendered = rendering.render(
            subject=template.subject, body=template.body, channel=channel, context=context
        )
    except TemplateInvalidError as error:
        delivery.status = Delivery.Status.FAILED
        delivery.last_error = _error_text(error)
        return delivery
    delivery.subject = rendered.subject
    delivery.body = rendered.body
    return delivery


def _in_app_deliver(delivery: Delivery) -> None:
    notification = InAppNotification.objects.create(
        user=delivery.user, event=delivery.event, title=delivery.subject, body=delivery.body
    )
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.DELIVERED,
        provider="in_app",
        provider_message_id=str(notification.pk),
        attempts=1,
        sent_at=now,
    )
    delivery.status = Delivery.Status.DELIVERED
    delivery.provider = "in_app"
    delivery.provider_message_id = str(notification.pk)
    delivery.attempts = 1
    delivery.sent_at = now
    publish_event(
        event_type="notification.created",
        payload={
            "id": str(notification.pk),
            "event": notification.event,
            "title": notification.title,
            "body": notification.body,
            "created_at": notification.created_at.isoformat(),
        },
        user_ids=[notification.user_id],
    )


def _error_text(error: ApplicationError) -> str:
    return f"{error.code}: {error.message}"[:2000]


# --- Sending --------------------------------------------------------------------------------


def _claim(delivery_id: Any) -> Delivery | None:
    now = timezone.now()
    unclaimed = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)
    claimed = Delivery.objects.filter(unclaimed, pk=delivery_id, status=Delivery.Status.QUEUED)
    if claimed.update(claimed_at=now, attempts=F("attempts") + 1) != 1:
        return None
    return Delivery.objects.get(pk=delivery_id)


def _tenant_base_url() -> str:
    # apps.tenants has no selector for a tenant's primary host yet; this is the one read
    # of its Domain table from here, in public, by the current schema.
    from apps.tenants.models import Domain

    schema_name = current_schema()
    with in_public():
        domain = (
            Domain.objects.filter(tenant__schema_name=schema_name)
            .order_by("-is_primary", "domain")
            .values_list("domain", flat=True)
            .first()
        )
    return f"https://{domain}" if domain else ""


def _status_callback_url(config: ChannelProvider | None, delivery: Delivery) -> str:
    if config is None or config.kind != ChannelProvider.Kind.TWILIO:
        return ""
    base = str(config.settings.get("status_callback_base_url") or "") or _tenant_base_url()
    if not base:
        return ""
    # The delivery id rides along (the signature covers the whole URL), so a callback
    # that beats the recording of Twilio's message sid still finds its delivery.
    path = reverse("notification-webhook-twilio")
    return f"{base.rstrip('/')}{path}?delivery_id={delivery.pk}"


def delivery_send(*, delivery_id: Any) -> Delivery | None:
    """Send one queued delivery through the tenant's provider for its channel.

    Idempotent: a delivery that is no longer queued, or that another worker is sending
    right now, is left alone (returns None). A provider that is unavailable raises
    ProviderUnavailableError for the task to retry, until MAX_ATTEMPTS, after which the
    delivery is ``failed``; a provider that refuses the message fails it at once.
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    config = selectors.channel_provider_active(channel=delivery.channel)
    kind = config.kind if config is not None else ChannelProvider.Kind.CONSOLE
    try:
        provider = providers.provider_build(config)
        message_id = provider.send(
            providers.OutgoingMessage(
                delivery_id=str(delivery.pk),
                channel=delivery.channel,
                to=delivery.address,
                subject=delivery.subject,
                body=delivery.body,
                status_callback_url=_status_callback_url(config, delivery),
            )
        )
    except ProviderUnavailableError as error:
        if delivery.attempts >= MAX_ATTEMPTS:
            return _delivery_fail(delivery, kind=kind, error=error)
        Delivery.objects.filter(pk=delivery.pk).update(
            claimed_at=None, provider=kind, last_error=_error_text(error)
        )
        logger.info("Delivery %s attempt %d: %s", delivery.pk, delivery.attempts, error)
        raise
    except ApplicationError as error:
        return _delivery_fail(delivery, kind=kind, error=error)
    except Exception:
        # A bug, not a provider answer: the task is not retried, so do not leave the
        # delivery claimed and queued forever.
        Delivery.objects.filter(pk=delivery.pk).update(
            claimed_at=None,
            status=Delivery.Status.FAILED,
            provider=kind,
            last_error="internal_error",
        )
        raise
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        provider=kind, provider_message_id=message_id[:255], sent_at=now, claimed_at=None
    )
    # A fast webhook may already have moved it on; "sent" must not undo that.
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(
        status=Delivery.Status.SENT, last_error=""
    )
    delivery.refresh_from_db()
    return delivery


def _delivery_fail(delivery: Delivery, *, kind: str, error: ApplicationError) -> Delivery:
    logger.warning("Delivery %s failed: %s", delivery.pk, error)
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(
        status=Delivery.Status.FAILED, provider=kind, last_error=_error_text(error), claimed_at=None
    )
    delivery.refresh_from_db()
    return delivery


# --- Provider reports -----------------------------------------------------------------------


@transaction.atomic
def delivery_event_record(
    *,
    delivery: Delivery,
    provider: str,
    external_id: str,
    raw_status: str,
    status: str | None,
    error: str = "",
    payload: Mapping[str, Any] | None = None,
) -> bool:
    """Record a provider's report once and move the delivery's status up (never down).

    Returns False for a report already recorded (a webhook retry or replay): nothing
    changes then.
    """
    try:
        with transaction.atomic():
            DeliveryEvent.objects.create(
                delivery=delivery,
                provider=provider,
                external_id=external_id[:255],
                raw_status=raw_status[:64],
                status=status or "",
                payload=dict(payload or {}),
            )
    except IntegrityError:
        return False
    if status is None:
        return True
    current = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if STATUS_RANK[status] <= STATUS_RANK[current.status]:
        return True
    current.status = status
    fields = ["status", "updated_at"]
    if error:
        current.last_error = error[:2000]
        fields.append("last_error")
    current.save(update_fields=fields)
    return True


# --- Users' own settings --------------------------------------------------------------------


@transaction.atomic
def opt_outs_set(*, user: Any, channels: Mapping[str, bool]) -> dict[str, bool]:
    """Opt the user out of the channels marked True and back in to those marked False."""
    unknown = sorted(set(channels) - set(Channel.values))
    if unknown:
        raise UnknownChannelError(channels=unknown)
    for channel, is_opted_out in channels.items():
        if is_opted_out:
            OptOut.objects.get_or_create(user=user, channel=channel)
        else:
            # Deleted one by one so the audit trail records each opt-in.
            for opt_out in OptOut.objects.filter(user=user, channel=channel):
                opt_out.delete()
    return selectors.opt_out_channels(user=user)


def in_app_notification_mark_read(*, notification: InAppNotification) -> InAppNotification:
    """Idempotent: reading a read notification keeps its first read time."""
    InAppNotification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    notification.refresh_from_db()
    return notification


def channel_provider_secret_set(*, provider: ChannelProvider, secret: str) -> None:
    """Store ``secret`` encrypted on ``provider`` (not saved here); empty keeps the old one."""
    if secret:
        provider.secret_encrypted = secret_encrypt(secret)
