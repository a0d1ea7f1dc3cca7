"""What every provider takes and returns, and the settings each kind needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: str
    channel: str
    to: str
    subject: str
    # HTML for email; plain text for SMS and WhatsApp.
    body: str
    # Where the provider reports status changes (Twilio); empty when it has no such option.
    status_callback_url: str = ""


class Provider(Protocol):
    kind: str

    def send(self, message: OutgoingMessage) -> str:
        """Hand the message to the provider and return its message id.

        Raises ProviderUnavailableError when trying again later may succeed (5xx, 429,
        timeouts, refused connections) and ProviderRejectedError when it cannot (4xx).
        """
        ...


@dataclass(frozen=True)
class SettingSpec:
    type: type
    required: bool
    help: str


# kind -> non-secret settings (ChannelProvider.settings); anything else is refused.
SETTINGS: dict[str, dict[str, SettingSpec]] = {
    "console": {},
    "smtp": {
        "host": SettingSpec(str, True, "SMTP server host name"),
        "port": SettingSpec(int, True, "587 (STARTTLS) or 465 (TLS)"),
        "username": SettingSpec(str, False, "SMTP user"),
        "use_tls": SettingSpec(bool, False, "STARTTLS"),
        "use_ssl": SettingSpec(bool, False, "implicit TLS"),
        "from_email": SettingSpec(str, True, "sender address"),
    },
    "sendgrid": {
        "from_email": SettingSpec(str, True, "verified sender address"),
        "webhook_public_key": SettingSpec(
            str, False, "Signed Event Webhook verification key (base64, from SendGrid)"
        ),
    },
    "twilio": {
        "account_sid": SettingSpec(str, True, "AC..."),
        "from_number": SettingSpec(str, True, "sender number, E.164 (+15550001111)"),
        "status_callback_base_url": SettingSpec(
            str, False, "https://<host> Twilio can reach; default: the tenant's primary domain"
        ),
    },
}

# kind -> label of its one secret; kinds missing here have none.
SECRET_LABELS: dict[str, str] = {
    "smtp": "SMTP password",
    "sendgrid": "SendGrid API key",
    "twilio": "Twilio auth token",
}
SECRET_REQUIRED = frozenset({"sendgrid", "twilio"})


def settings_errors(*, kind: str, settings: Any) -> list[str]:
    """Why ``settings`` do not fit ``kind`` (empty when they do)."""
    if not isinstance(settings, dict):
        return ["Settings must be a JSON object."]
    spec = SETTINGS.get(kind, {})
    errors = [f"Unknown setting {name!r}." for name in sorted(set(settings) - set(spec))]
    for name, setting in spec.items():
        if name not in settings:
            if setting.required:
                errors.append(f"Missing setting {name!r} ({setting.help}).")
            continue
        value = settings[name]
        # bool is an int subclass; a port of True is not a port.
        if not isinstance(value, setting.type) or (setting.type is int and isinstance(value, bool)):
            errors.append(f"Setting {name!r} must be a {setting.type.__name__}.")
    return errors
