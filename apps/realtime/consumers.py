"""The one websocket endpoint: a signed-in user's live events in one tenant.

Client -> server: ``{"type": "ping"}`` (answered ``{"type": "pong"}``).
Server -> client: the events of apps.realtime.publish, as published:
``{"type": "job.updated", "tenant": "<schema>", "at": "...", "payload": {...}}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core.tenancy import in_tenant
from apps.realtime.middleware import CLOSE_UNAUTHENTICATED, offered_subprotocol
from apps.realtime.publish import role_group, tenant_group, user_group

logger = logging.getLogger("tenantry.realtime")

# redis-py's asyncio pool holds at most 100 connections and raises MaxConnectionsError
# beyond that instead of waiting. Each socket joins or leaves ~3 groups, so a reconnect
# storm (a deploy, a network blip) of a few hundred sockets would overrun it; membership
# changes queue here instead, leaving room for the receive loop and group_send.
GROUP_CHANGES_AT_ONCE = 50
_group_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _group_gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _group_gates.get(loop)
    if gate is None:
        gate = _group_gates[loop] = asyncio.Semaphore(GROUP_CHANGES_AT_ONCE)
    return gate


def _groups_for(schema_name: str, user_id: Any) -> list[str]:
    from apps.accounts.models import User

    with in_tenant(schema_name):
        # Read in the schema the user row came from; only the role slugs are needed, not
        # the permissions and scopes a whole Actor would load on every handshake.
        user = User.objects.get(pk=user_id)
        role_slugs = sorted(user.roles.values_list("slug", flat=True))
    return [
        user_group(schema_name, user.pk),
        *(role_group(schema_name, slug) for slug in role_slugs),
        tenant_group(schema_name),
    ]


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Joins the user's, each of their roles' and the tenant's groups on connect.

    Group membership is fixed at connect time: a role granted or revoked later takes
    effect at the next connection. A connection made with a token is closed (4401) when
    the token expires, so it never outlives the credential that opened it.
    """

    async def connect(self) -> None:
        self.schema_name: str = self.scope["schema_name"]
        self.joined: list[str] = []
        self._expiry: asyncio.Task[None] | None = None
        user = self.scope.get("user")
        subprotocol = offered_subprotocol(self.scope)
        if user is None or not user.is_authenticated:
            await self.accept(subprotocol=subprotocol)
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = await database_sync_to_async(_groups_for)(self.schema_name, user.pk)
        for group in groups:
            async with _group_gate():
                await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept(subprotocol=subprotocol)
        credentials = self.scope.get("auth")
        if credentials is not None and credentials.expires_at is not None:
            self._expiry = asyncio.create_task(self._close_at(credentials.expires_at))

    async def disconnect(self, code: int) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        for group in self.joined:
            async with _group_gate():
                await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def _close_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.send_json({"type": "error", "code": "realtime.text_frames_only"})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "realtime.invalid_json"})
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_json({"type": "error", "code": "realtime.unknown_message"})

    async def dispatch(self, message: dict[str, Any]) -> None:
        # channels runs close_old_connections() in the database thread before every
        # handler. Forwarding an event never touches the database, and that hop, queued
        # behind every other consumer's, made fan-out to 1,000 sockets take seconds.
        if message["type"] == "event.message":
            await self.event_message(message)
            return
        await super().dispatch(message)

    async def event_message(self, message: dict[str, Any]) -> None:
        event = message["event"]
        # Group names already carry the schema; this is the second lock on the same door.
        if event.get("tenant") != self.schema_name:
            logger.error(
                "Dropped %s for %s on a %s connection",
                event.get("type"),
                event.get("tenant"),
                self.schema_name,
            )
            return
        await self.send_json(event)
