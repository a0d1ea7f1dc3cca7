from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.notifications.models import (
    Channel,
    ChannelProvider,
    Delivery,
    InAppNotification,
    NotificationTemplate,
    OptOut,
)


def in_app_notification_list(*, user: Any) -> QuerySet[InAppNotification]:
    """The user's own in-app notifications; nobody reads another user's."""
    return InAppNotification.objects.filter(user=user)


def in_app_notification_get(*, user: Any, notification_id: object) -> InAppNotification:
    notification = in_app_notification_list(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFoundError()
    return notification


def opt_out_channels(*, user: Any) -> dict[str, bool]:
    """Every channel, True where the user opted out."""
    opted_out = set(OptOut.objects.filter(user=user).values_list("channel", flat=True))
    return {channel.value: channel.value in opted_out for channel in Channel}


def opt_outs_for(*, user_ids: list[Any], channels: list[str]) -> set[tuple[Any, str]]:
    return set(
        OptOut.objects.filter(user_id__in=user_ids, channel__in=channels).values_list(
            "user_id", "channel"
        )
    )


def delivery_list(*, actor: Actor) -> QuerySet[Delivery]:
    require_perm(actor, "notifications.view_delivery")
    return Delivery.objects.all()


def template_map(*, event: str, channels: list[str]) -> dict[str, NotificationTemplate]:
    templates = NotificationTemplate.objects.filter(
        event=event, channel__in=channels, is_active=True
    )
    return {template.channel: template for template in templates}


def channel_provider_active(*, channel: str) -> ChannelProvider | None:
    return ChannelProvider.objects.filter(channel=channel, is_active=True).first()


def channel_providers_of_kind(*, kind: str) -> list[ChannelProvider]:
    """Active ones first. Inactive ones still count for webhooks: a provider switched off
    today still reports on what it sent yesterday."""
    return list(ChannelProvider.objects.filter(kind=kind).order_by("-is_active", "created_at"))


def delivery_for_report(
    *, channels: list[str], provider: str, provider_message_id: str, delivery_id: str | None
) -> Delivery | None:
    """The delivery a provider's status report is about, in the current tenant only.

    The delivery id (when the provider echoes it back) wins; a delivery that already has
    another provider message id is not the one reported on.
    """
    if delivery_id:
        try:
            delivery_uuid = uuid.UUID(delivery_id)
        except ValueError:
            return None
        delivery = Delivery.objects.filter(pk=delivery_uuid, channel__in=channels).first()
        if delivery is None:
            return None
        is_other_message = (
            delivery.provider_message_id
            and provider_message_id
            and not _same_message(delivery.provider_message_id, provider_message_id)
        )
        return None if is_other_message else delivery
    if not provider_message_id:
        return None
    return Delivery.objects.filter(
        channel__in=channels, provider=provider, provider_message_id=provider_message_id
    ).first()


def _same_message(stored: str, reported: str) -> bool:
    # SendGrid reports "<X-Message-Id>.<filter...>"; Twilio reports the sid itself.
    return reported == stored or reported.startswith(stored + ".")
