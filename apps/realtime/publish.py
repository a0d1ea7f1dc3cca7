"""The one way services publish realtime events: after commit, to groups named by tenant.

Group names always start with the schema, so a subscriber of tenant A can never be in
a group that tenant B publishes to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from apps.core.tenancy import require_tenant_schema

logger = logging.getLogger("tenantry.realtime")


def tenant_group(schema_name: str) -> str:
    return f"t.{schema_name}.all"


def user_group(schema_name: str, user_id: Any) -> str:
    return f"t.{schema_name}.user.{user_id}"


def role_group(schema_name: str, role_slug: str) -> str:
    return f"t.{schema_name}.role.{role_slug}"


def publish_event(
    *,
    event_type: str,
    payload: dict[str, Any],
    user_ids: Iterable[Any] = (),
    roles: Iterable[str] = (),
    to_tenant: bool = False,
) -> None:
    """Send ``{"type": event_type, "payload": ...}`` to the named users, roles or the whole
    tenant once the current transaction commits (immediately outside one)."""
    schema_name = require_tenant_schema()
    groups = [user_group(schema_name, user_id) for user_id in user_ids]
    groups += [role_group(schema_name, role) for role in roles]
    if to_tenant:
        groups.append(tenant_group(schema_name))
    if not groups:
        return
    event = {
        "type": event_type,
        "tenant": schema_name,
        "at": timezone.now().isoformat(),
        "payload": payload,
    }
    transaction.on_commit(lambda: _send(groups, event))


def _send(groups: list[str], event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    # One event loop for all the groups: async_to_sync starts a loop per call, and the
    # layer opens its Redis connections per loop.
    async_to_sync(_group_send_each)(layer, groups, event)


async def _group_send_each(layer: Any, groups: list[str], event: dict[str, Any]) -> None:
    for group in groups:
        try:
            await layer.group_send(group, {"type": "event.message", "event": event})
        except Exception:  # noqa: BLE001 - a realtime hiccup must not fail the write
            logger.warning("Could not publish %s to %s", event["type"], group, exc_info=True)
