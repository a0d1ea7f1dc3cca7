from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from apps.core.admin import TenantOnlyAdmin
from apps.notifications import services
from apps.notifications.crypto import secret_decrypt, secret_mask
from apps.notifications.errors import SecretUnreadableError
from apps.notifications.models import (
    ChannelProvider,
    Delivery,
    DeliveryEvent,
    NotificationTemplate,
    OptOut,
)
from apps.notifications.providers.base import SECRET_LABELS, SECRET_REQUIRED, SETTINGS
from apps.notifications.webhooks import sendgrid_public_key_load


def _stored_secret_hint(provider: ChannelProvider) -> str:
    if not provider.secret_encrypted:
        return ""
    try:
        return secret_mask(secret_decrypt(provider.secret_encrypted))
    except SecretUnreadableError:
        return "(unreadable: enter it again)"


def _settings_help() -> str:
    parts = []
    for kind, spec in SETTINGS.items():
        if spec:
            names = ", ".join(
                f"{name}{'' if setting.required else '?'}" for name, setting in spec.items()
            )
            parts.append(f"{kind}: {names}")
    return "JSON object. " + "; ".join(parts) + " (? = optional). Never put secrets here."


class ChannelProviderForm(forms.ModelForm):
    """The secret is write-only: the page shows its masked tail, and an empty field keeps
    the stored value."""

    secret = forms.CharField(
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = ChannelProvider
        fields = ("channel", "kind", "is_active", "settings")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["settings"].help_text = _settings_help()
        labels = ", ".join(f"{kind}: {label}" for kind, label in SECRET_LABELS.items())
        hint = _stored_secret_hint(self.instance)
        stored = f"Stored: {hint}. Leave empty to keep it. " if hint else ""
        self.fields["secret"].help_text = f"{stored}({labels})"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind = cleaned.get("kind")
        settings = cleaned.get("settings")
        secret = cleaned.get("secret") or ""
        if kind == ChannelProvider.Kind.SENDGRID and isinstance(settings, dict):
            public_key = settings.get("webhook_public_key")
            if isinstance(public_key, str) and public_key:
                try:
                    sendgrid_public_key_load(public_key)
                except ValueError as error:
                    self.add_error("settings", f"webhook_public_key: {error}")
        kind_changed = "kind" in self.changed_data and not self.instance._state.adding
        keeps_secret = bool(self.instance.secret_encrypted) and not kind_changed
        if kind in SECRET_REQUIRED and not secret and not keeps_secret:
            self.add_error("secret", f"Enter the {SECRET_LABELS[kind]}.")
        return cleaned

    def save(self, commit: bool = True) -> ChannelProvider:
        provider = super().save(commit=False)
        kind = self.cleaned_data["kind"]
        secret = self.cleaned_data.get("secret") or ""
        if kind not in SECRET_LABELS or ("kind" in self.changed_data and not secret):
            # Another kind's secret must never be sent to this one.
            provider.secret_encrypted = ""
        services.channel_provider_secret_set(provider=provider, secret=secret)
        if commit:
            provider.save()
        return provider


@admin.register(ChannelProvider)
class ChannelProviderAdmin(TenantOnlyAdmin):
    form = ChannelProviderForm
    list_display = ("channel", "kind", "is_active", "secret_hint", "updated_at")
    list_filter = ("channel", "kind", "is_active")
    fields = ("channel", "kind", "is_active", "settings", "secret")

    @admin.display(description="secret")
    def secret_hint(self, provider: ChannelProvider) -> str:
        return _stored_secret_hint(provider) or "—"


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(TenantOnlyAdmin):
    list_display = ("event", "channel", "subject", "is_active", "updated_at")
    list_filter = ("channel", "is_active")
    search_fields = ("event", "subject")
    fields = ("event", "channel", "subject", "body", "is_active")


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = ("received_at", "provider", "raw_status", "status", "external_id")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(TenantOnlyAdmin):
    """Read-only: the log is written by the sending code and the providers' reports."""

    list_display = ("created_at", "event", "channel", "user", "address", "status", "provider")
    list_filter = ("status", "channel", "provider")
    search_fields = ("event", "address", "dedupe_key", "provider_message_id")
    date_hierarchy = "created_at"
    inlines = [DeliveryEventInline]
    # The rendered body is left out: it may hold links or codes meant for one person.
    fields = (
        "event",
        "channel",
        "user",
        "address",
        "dedupe_key",
        "status",
        "provider",
        "provider_message_id",
        "subject",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OptOut)
class OptOutAdmin(TenantOnlyAdmin):
    list_display = ("user", "channel", "created_at")
    list_filter = ("channel",)
    search_fields = ("user__username", "user__email")
    autocomplete_fields = ("user",)
