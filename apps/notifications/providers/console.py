from __future__ import annotations

import logging
import uuid

from apps.notifications.providers.base import OutgoingMessage

logger = logging.getLogger("tenantry.notifications")


class ConsoleProvider:
    """Writes the message to the log instead of sending it: the development default, and
    what a tenant gets on a channel it has not configured."""

    kind = "console"

    def send(self, message: OutgoingMessage) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        logger.info(
            "Notification %s via console (%s to %s): %s\n%s",
            message_id,
            message.channel,
            message.to,
            message.subject,
            message.body,
        )
        return message_id
