"""Cross-tenant specs of the notifications routes (merged into tests.api.routes)."""

from __future__ import annotations

import uuid

from tests.api.routes import Spec
from tests.personas import PERSONAS

ADMIN_ID = PERSONAS["admin"][0]


def _make_notification() -> tuple[dict, str]:
    from apps.notifications.models import InAppNotification

    # For the admin persona, whose id is the same in both tenants: B's admin sees it in
    # B, and A's admin, with the same user id, must still not see it in A.
    marker = f"xt-notification-{uuid.uuid4().hex[:8]}"
    notification = InAppNotification.objects.create(
        user_id=ADMIN_ID, event="xt", title=marker, body=marker
    )
    return {"notification_id": notification.pk}, marker


def _notification_intact(marker: str) -> bool:
    from apps.notifications.models import InAppNotification

    return InAppNotification.objects.filter(title=marker, read_at__isnull=True).exists()


def _make_delivery() -> tuple[dict, str]:
    from apps.notifications.models import Delivery

    marker = f"xt-delivery-{uuid.uuid4().hex[:8]}"
    Delivery.objects.create(event=marker, channel="email", dedupe_key=marker, user_id=ADMIN_ID)
    return {}, marker


def _delivery_intact(marker: str) -> bool:
    from apps.notifications.models import Delivery

    return Delivery.objects.filter(event=marker, status="queued").exists()


ROUTES: dict[str, Spec] = {
    "api/v1/notifications/": Spec(make=_make_notification, intact=_notification_intact),
    "api/v1/notifications/<uuid:notification_id>/read/": Spec(
        make=_make_notification, intact=_notification_intact
    ),
    # The caller's own settings: there is no object of another tenant to name.
    "api/v1/notifications/opt-outs/": Spec(make=None),
    "api/v1/notifications/deliveries/": Spec(make=_make_delivery, intact=_delivery_intact),
}

PUBLIC_ROUTES: dict[str, str] = {
    "api/v1/notifications/webhooks/sendgrid/": (
        "SendGrid event webhook: no token, ECDSA signature checked with the host tenant's "
        "key; isolation covered in apps/notifications/tests/test_webhooks.py"
    ),
    "api/v1/notifications/webhooks/twilio/": (
        "Twilio status callback: no token, X-Twilio-Signature checked with the host "
        "tenant's auth token; isolation covered in apps/notifications/tests/test_webhooks.py"
    ),
}
