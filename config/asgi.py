"""ASGI entry point: Django for HTTP, Channels for websockets, on the same host names.

Websockets pass the Origin check (a browser page of a host outside ALLOWED_HOSTS cannot
connect), then tenant routing by Host, then authentication inside the tenant's schema
(apps.realtime.middleware), then the URL router.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# The web server is the one process that wants a connection pool (config/settings/base.py).
os.environ.setdefault("TENANTRY_ASGI", "1")

# Django is set up before anything imports models (the consumers do).
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.realtime.middleware import (  # noqa: E402
    TenantWebsocketMiddleware,
    WebsocketAuthMiddleware,
    allowed_hosts_origin_validator,
)
from apps.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": allowed_hosts_origin_validator(
            TenantWebsocketMiddleware(WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Startup leaves ~150,000 long-lived objects (Django, DRF, the app registry) that every
# full collection would walk again. With a thousand websockets open, those collections
# stalled the event loop for 80-270 ms every few seconds: bench/realtime_fanout.py's p99
# went from ~130 ms to ~55 ms with this. Frozen objects are never collected, so the
# garbage of startup is collected first.
gc.collect()
gc.freeze()
