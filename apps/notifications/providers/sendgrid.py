from __future__ import annotations

from typing import Any

from apps.notifications.errors import (
    ProviderMisconfiguredError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from apps.notifications.providers.base import OutgoingMessage
from apps.notifications.rendering import html_to_text


def is_transient_status(status: int) -> bool:
    return status == 429 or status >= 500


class SendGridProvider:
    """Email through SendGrid's v3 Mail Send API. The delivery id travels as a custom arg,
    which SendGrid copies into every event it posts to the webhook."""

    kind = "sendgrid"

    def __init__(self, *, settings: dict[str, Any], secret: str, timeout: float = 15) -> None:
        if not secret:
            # SendGridAPIClient would silently fall back to $SENDGRID_API_KEY.
            raise ProviderMisconfiguredError("The SendGrid API key is missing.")
        self.settings = settings
        self.api_key = secret
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> str:
        # Imported here, not at module level: sendgrid would slow every process's start-up.
        from python_http_client.exceptions import HTTPError
        from sendgrid import SendGridAPIClient
        from sendgrid.helpers.mail import CustomArg, Mail

        mail = Mail(
            from_email=self.settings["from_email"],
            to_emails=message.to,
            subject=message.subject,
            plain_text_content=html_to_text(message.body),
            html_content=message.body,
        )
        mail.custom_arg = CustomArg("delivery_id", message.delivery_id)
        client = SendGridAPIClient(api_key=self.api_key)
        try:
            # client.send() takes no timeout and urllib's default is none at all.
            response = client.client.mail.send.post(request_body=mail.get(), timeout=self.timeout)
        except HTTPError as error:
            detail = f"SendGrid {error.status_code}: {_text(error.body)}"
            if is_transient_status(error.status_code):
                raise ProviderUnavailableError(detail) from error
            raise ProviderRejectedError(detail) from error
        except OSError as error:  # URLError, timeouts, refused connections
            raise ProviderUnavailableError(f"SendGrid connection: {error}") from error
        return response.headers.get("X-Message-Id", "") or ""


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return str(body)[:500]
