"""Websocket routes (the ``websocket`` branch of config.asgi)."""

from __future__ import annotations

from typing import Any

from django.urls import path, re_path

from apps.realtime.consumers import EventsConsumer
from apps.realtime.middleware import CLOSE_NOT_FOUND, close_with


async def not_found(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Any other path: a close code rather than URLRouter's unhandled ValueError."""
    await close_with(scope, receive, send, code=CLOSE_NOT_FOUND)


websocket_urlpatterns = [
    path("ws/events/", EventsConsumer.as_asgi()),
    re_path(r"", not_found),
]
