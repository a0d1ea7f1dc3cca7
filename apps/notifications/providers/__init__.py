"""Notification providers: one class per kind, all with ``send(message) -> message id``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.notifications.crypto import secret_decrypt
from apps.notifications.errors import ProviderMisconfiguredError
from apps.notifications.providers.base import OutgoingMessage, Provider, settings_errors
from apps.notifications.providers.console import ConsoleProvider
from apps.notifications.providers.sendgrid import SendGridProvider
from apps.notifications.providers.smtp import SmtpProvider
from apps.notifications.providers.twilio import TwilioProvider

if TYPE_CHECKING:
    from apps.notifications.models import ChannelProvider

__all__ = ["OutgoingMessage", "Provider", "provider_build"]


def provider_build(config: ChannelProvider | None) -> Provider:
    """The provider a channel's configuration names; the console without one.

    Raises ProviderMisconfiguredError (or SecretUnreadableError) when the stored
    configuration cannot work.
    """
    if config is None or config.kind == "console":
        return ConsoleProvider()
    errors = settings_errors(kind=config.kind, settings=config.settings)
    if errors:
        raise ProviderMisconfiguredError(" ".join(errors))
    secret = secret_decrypt(config.secret_encrypted)
    if config.kind == "smtp":
        return SmtpProvider(settings=config.settings, secret=secret)
    if config.kind == "sendgrid":
        return SendGridProvider(settings=config.settings, secret=secret)
    if config.kind == "twilio":
        return TwilioProvider(settings=config.settings, secret=secret)
    raise ProviderMisconfiguredError(f"Unknown provider kind {config.kind!r}.")
