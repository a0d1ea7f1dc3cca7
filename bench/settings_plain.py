"""Bench-only settings: the app without tenant routing (the request benchmark's baseline).

``TenantRoutingMiddleware`` (host -> tenant lookup, cached in Redis, and a schema switch
on every request) is replaced by :class:`bench.middleware.PinnedTenantMiddleware`, which
serves every request from the one tenant named in ``BENCH_PINNED_SCHEMA``.
"""

from config.settings.test import *  # noqa: F403

MIDDLEWARE = [  # noqa: F405
    "bench.middleware.PinnedTenantMiddleware"
    if entry == "apps.core.middleware.TenantRoutingMiddleware"
    else entry
    for entry in MIDDLEWARE  # noqa: F405
]
