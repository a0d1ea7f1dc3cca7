"""One Redis connection pool per process for the Django cache.

Django keeps a cache object per thread (and per ASGI request context), and each builds
its own connection pool, so under ASGI every request opened a fresh Redis connection
(measured by bench/request_overhead.py: one per request, ~0.9 ms of CPU each). Sharing
the pool makes the host lookup of every request reuse a connection.
"""

from __future__ import annotations

import threading
from typing import Any

import redis

_pools: dict[tuple[str, str], redis.ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:  # type: ignore[override]
        key = (url, repr(sorted(kwargs.items(), key=lambda item: item[0])))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                # redis-py's pool notices a fork (pid check) and starts afresh in the child.
                pool = redis.ConnectionPool.from_url(url, **kwargs)
                _pools[key] = pool
            return pool
