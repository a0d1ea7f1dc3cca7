from __future__ import annotations

from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from apps.notifications.errors import (
    ProviderMisconfiguredError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from apps.notifications.providers.base import OutgoingMessage

WHATSAPP_PREFIX = "whatsapp:"


def _address(number: str, *, channel: str) -> str:
    if channel == "whatsapp" and not number.startswith(WHATSAPP_PREFIX):
        return WHATSAPP_PREFIX + number
    return number


class TwilioProvider:
    """SMS and WhatsApp through Twilio's Messages API (Programmable Messaging)."""

    kind = "twilio"

    def __init__(
        self,
        *,
        settings: dict[str, Any],
        secret: str,
        http_client: HttpClient | None = None,
        timeout: float = 15,
    ) -> None:
        if not secret:
            raise ProviderMisconfiguredError("The Twilio auth token is missing.")
        self.settings = settings
        self.auth_token = secret
        self.http_client = http_client
        self.timeout = timeout

    def send(self, message: OutgoingMessage) -> str:
        client = Client(
            self.settings["account_sid"],
            self.auth_token,
            http_client=self.http_client or TwilioHttpClient(timeout=self.timeout),
        )
        options: dict[str, Any] = {
            "to": _address(message.to, channel=message.channel),
            "from_": _address(self.settings["from_number"], channel=message.channel),
            "body": message.body,
        }
        if message.status_callback_url:
            options["status_callback"] = message.status_callback_url
        try:
            created = client.messages.create(**options)
        except TwilioRestException as error:
            detail = f"Twilio {error.status} ({error.code}): {error.msg}"
            if error.status == 429 or error.status >= 500:
                raise ProviderUnavailableError(detail) from error
            raise ProviderRejectedError(detail) from error
        except requests.RequestException as error:
            raise ProviderUnavailableError(f"Twilio connection: {error}") from error
        except TwilioException as error:
            raise ProviderRejectedError(f"Twilio: {error}") from error
        return created.sid or ""
