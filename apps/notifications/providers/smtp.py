from __future__ import annotations

import smtplib
from email.utils import make_msgid
from typing import Any

from django.core.mail import EmailMultiAlternatives, get_connection

from apps.notifications.errors import (
    ProviderMisconfiguredError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from apps.notifications.providers.base import OutgoingMessage
from apps.notifications.rendering import html_to_text

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class SmtpProvider:
    """Email through the tenant's own SMTP server (Django's SMTP backend, one connection
    per message with the tenant's host, port, user and password)."""

    kind = "smtp"

    def __init__(self, *, settings: dict[str, Any], secret: str, timeout: float = 15) -> None:
        if settings.get("use_tls") and settings.get("use_ssl"):
            raise ProviderMisconfiguredError("SMTP use_tls and use_ssl exclude each other.")
        self.settings = settings
        self.password = secret
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> str:
        from_email = self.settings["from_email"]
        connection = get_connection(
            SMTP_BACKEND,
            fail_silently=False,
            host=self.settings["host"],
            port=self.settings["port"],
            username=self.settings.get("username") or None,
            password=self.password or None,
            use_tls=bool(self.settings.get("use_tls")),
            use_ssl=bool(self.settings.get("use_ssl")),
            timeout=self.timeout,
        )
        message_id = make_msgid(domain=from_email.rpartition("@")[2] or None)
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=html_to_text(message.body),
            from_email=from_email,
            to=[message.to],
            headers={"Message-ID": message_id, "X-Tenantry-Delivery": message.delivery_id},
            connection=connection,
        )
        email.attach_alternative(message.body, "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if codes and all(400 <= code < 500 for code in codes):
                raise ProviderUnavailableError(f"SMTP recipient deferred: {codes}") from error
            raise ProviderRejectedError(f"SMTP recipient refused: {codes}") from error
        except smtplib.SMTPResponseException as error:
            # SMTP's 4xx replies are the temporary ones, 5xx the permanent ones.
            if 400 <= error.smtp_code < 500:
                raise ProviderUnavailableError(f"SMTP {error.smtp_code}") from error
            raise ProviderRejectedError(f"SMTP {error.smtp_code}") from error
        except smtplib.SMTPNotSupportedError as error:
            raise ProviderRejectedError(f"SMTP server: {error}") from error
        except OSError as error:  # refused, reset, timed out, disconnected, DNS
            raise ProviderUnavailableError(f"SMTP connection: {error}") from error
        return message_id
