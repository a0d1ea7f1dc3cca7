"""Readiness: the database and Redis answer."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection

logger = logging.getLogger("tenantry.health")


def health_check() -> dict[str, bool]:
    checks = {"database": False, "redis": False}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            checks["database"] = cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - a failing dependency is the answer, not an error
        logger.warning("health: database unreachable", exc_info=True)
    try:
        client = cache._cache.get_client(write=True)  # noqa: SLF001 - ping the cache's own client
        checks["redis"] = bool(client.ping())
    except Exception:  # noqa: BLE001
        logger.warning("health: redis unreachable", exc_info=True)
    return checks
