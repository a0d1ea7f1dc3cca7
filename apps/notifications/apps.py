from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.notifications.models import ChannelProvider, NotificationTemplate, OptOut

        # The encrypted secret never reaches the audit trail, not even as ciphertext.
        auditlog.register(ChannelProvider, exclude_fields=["secret_encrypted", "updated_at"])
        auditlog.register(NotificationTemplate, exclude_fields=["updated_at"])
        auditlog.register(OptOut)
