import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    IN_APP = "in_app", "In-app"


# Channels that leave the platform through a provider; in-app is written to our own table.
EXTERNAL_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP)


class ChannelProvider(models.Model):
    """How one tenant sends one channel: the provider kind, its settings and its secret.

    ``settings`` holds what may be shown (hosts, sender addresses, account ids, the
    SendGrid webhook's public key); the one secret of each kind (SMTP password, SendGrid
    API key, Twilio auth token) is Fernet-encrypted in ``secret_encrypted`` with a key
    derived from SECRET_KEY (apps.notifications.crypto).
    """

    class Kind(models.TextChoices):
        CONSOLE = "console", "Console (development)"
        SMTP = "smtp", "SMTP"
        SENDGRID = "sendgrid", "SendGrid"
        TWILIO = "twilio", "Twilio"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(
        max_length=16, choices=[(c.value, c.label) for c in EXTERNAL_CHANNELS]
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CONSOLE)
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)
    secret_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "-is_active", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel"],
                condition=models.Q(is_active=True),
                name="notifications_one_active_provider_per_channel",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="console")
                | models.Q(channel="email", kind__in=["smtp", "sendgrid"])
                | models.Q(channel__in=["sms", "whatsapp"], kind="twilio"),
                name="notifications_provider_kind_fits_channel",
            ),
        ]

    def __str__(self) -> str:
        state = "active" if self.is_active else "inactive"
        return f"{self.get_channel_display()} via {self.get_kind_display()} ({state})"

    def clean(self) -> None:
        from apps.notifications.providers.base import settings_errors

        errors = settings_errors(kind=self.kind, settings=self.settings)
        if errors:
            raise ValidationError({"settings": errors})


class NotificationTemplate(models.Model):
    """What one event says on one channel. ``subject`` is the email subject or the in-app
    title; both fields are Django template strings rendered by a restricted engine."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=100, db_index=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel"], name="notifications_template_per_event_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.get_channel_display()})"

    def clean(self) -> None:
        # Imported here: the rendering module imports the app's errors and template library.
        from apps.notifications.errors import TemplateInvalidError
        from apps.notifications.rendering import template_check

        try:
            template_check(subject=self.subject, body=self.body, channel=self.channel)
        except TemplateInvalidError as error:
            field = str(error.details.get("field", "body"))
            raise ValidationError(
                {field: str(error.details.get("reason", error.message))}
            ) from error


class Delivery(models.Model):
    """One notification to one user on one channel, and what became of it."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"
        DELIVERED = "delivered"
        FAILED = "failed"
        BOUNCED = "bounced"
        OPTED_OUT = "opted_out"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=100, db_index=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notification_deliveries",
    )
    address = models.CharField(max_length=320, blank=True)
    # "<caller's key>:<channel>:<user id>": the same notification is never sent twice.
    dedupe_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    provider = models.CharField(max_length=16, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    # Rendered when the notification was requested, so a retry sends the same words.
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set while a worker is talking to the provider; a claim older than
    # services.CLAIM_TIMEOUT belongs to a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["provider", "provider_message_id"], name="notifications_delivery_msgid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.channel} → {self.address or self.user_id} ({self.status})"


class DeliveryEvent(models.Model):
    """A provider's status report about a delivery, kept once per provider event id."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    provider = models.CharField(max_length=16)
    external_id = models.CharField(max_length=255)
    raw_status = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Delivery.Status.choices, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="notifications_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.raw_status} for {self.delivery_id}"


class OptOut(models.Model):
    """The user does not want notifications on this channel."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_opt_outs"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["channel"]
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="notifications_opt_out_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} opted out of {self.channel}"


class InAppNotification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="in_app_notifications"
    )
    event = models.CharField(max_length=100)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notifications_inapp_user_new")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
