from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError
from apps.jobs.errors import TransientError


class TemplateInvalidError(ApplicationError):
    code = "notifications.template_invalid"
    http_status = 400
    message = _("The notification template cannot be rendered.")


class UnknownChannelError(ApplicationError):
    code = "notifications.unknown_channel"
    http_status = 400
    message = _("Unknown notification channel.")


class DedupeKeyInvalidError(ApplicationError):
    code = "notifications.dedupe_key_invalid"
    http_status = 400
    message = _("The dedupe key must be 1 to 200 characters long.")


class AddressMissingError(ApplicationError):
    code = "notifications.address_missing"
    http_status = 400
    message = _("The recipient has no valid address on this channel.")


class ProviderUnavailableError(TransientError):
    """The provider could not take the message now (5xx, 429, timeout, connection): the
    task retries it with backoff."""

    code = "notifications.provider_unavailable"
    http_status = 503
    message = _("The notification provider is unavailable; sending will be retried.")


class ProviderRejectedError(ApplicationError):
    """The provider refused the message for good (4xx): retrying would not help."""

    code = "notifications.provider_rejected"
    http_status = 502
    message = _("The notification provider rejected the message.")


class ProviderMisconfiguredError(ApplicationError):
    code = "notifications.provider_misconfigured"
    http_status = 409
    message = _("The notification provider of this channel is not configured correctly.")


class SecretUnreadableError(ProviderMisconfiguredError):
    code = "notifications.secret_unreadable"
    message = _("The stored provider secret cannot be decrypted; enter it again.")


class BadSignatureError(ApplicationError):
    code = "notifications.bad_signature"
    http_status = 403
    message = _("The webhook signature is missing or does not match.")


class MalformedWebhookError(ApplicationError):
    code = "notifications.malformed_webhook"
    http_status = 400
    message = _("The webhook body is not in the expected format.")
