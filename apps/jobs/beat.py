"""Exactly one beat sends: a Redis lock held (and renewed) by the beat that ticks.

A second beat process started by mistake (two deploys, a stuck old container) keeps
trying for the lock and sends nothing while the first one lives. When the holder dies
its lock expires and the other takes over within ``LOCK_TTL`` seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import Any

import redis
from django_celery_beat.schedulers import DatabaseScheduler

from apps.core import tenancy

logger = logging.getLogger("tenantry.beat")

LOCK_KEY = "tenantry:beat:lock"
LOCK_TTL = 30

# Renew the lock only if it is still ours; atomic in Redis.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


# The clock of the re-send guard (a name of its own, so tests can move it).
_clock = time.monotonic


def _min_gap_seconds(entry: Any) -> float:
    """Half the entry's period (interval schedules), or 30 s (cron, solar, clocked: none
    fires more often than once a minute)."""
    run_every = getattr(getattr(entry, "schedule", None), "run_every", None)
    period = run_every.total_seconds() if isinstance(run_every, timedelta) else 60.0
    return min(period, 60.0) / 2


def _redis() -> redis.Redis:
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)


class SingleBeatScheduler(DatabaseScheduler):
    def __init__(self, *args, **kwargs) -> None:
        self._lock_owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._holds_lock = False
        self._sent_at: dict[str, float] = {}
        self._redis = _redis()
        super().__init__(*args, **kwargs)

    def _hold_lock(self) -> bool:
        ttl_ms = LOCK_TTL * 1000
        try:
            if self._holds_lock:
                self._holds_lock = bool(
                    self._redis.eval(_RENEW, 1, LOCK_KEY, self._lock_owner, ttl_ms)
                )
            if not self._holds_lock:
                self._holds_lock = bool(
                    self._redis.set(LOCK_KEY, self._lock_owner, nx=True, px=ttl_ms)
                )
                if self._holds_lock:
                    logger.info("Beat %s holds the lock and sends schedules", self._lock_owner)
        except redis.RedisError:
            logger.warning("Beat lock unreachable; sending nothing", exc_info=True)
            self._holds_lock = False
        return self._holds_lock

    def tick(self, *args, **kwargs) -> float:
        if not self._hold_lock():
            # Not the sender: wait, then try for the lock again.
            return min(5.0, LOCK_TTL / 3)
        with tenancy.in_public():
            interval = super().tick(*args, **kwargs)
        return min(interval, LOCK_TTL / 3)

    def apply_entry(self, entry, producer=None) -> None:
        # A tick can outlast the lock (a slow schedule read, a stalled process) while the
        # other beat takes it over: check the lock is still ours right before each send.
        if not self._hold_lock():
            logger.warning(
                "Beat lost the lock during a tick; %s left to the new holder", entry.name
            )
            return
        # django-celery-beat reloads the schedule from the database when it changes (the
        # beat's own start-up writes change it); an entry sent just before such a reload
        # was seen due again and sent a second time tens of milliseconds later
        # (tests/jobs/test_beat.py). No entry is due twice within half its period.
        now = _clock()
        last = self._sent_at.get(entry.name)
        if last is not None and now - last < _min_gap_seconds(entry):
            logger.warning(
                "Beat skipped %s: sent %.3f s ago already (schedule reloaded)",
                entry.name,
                now - last,
            )
            return
        self._sent_at[entry.name] = now
        super().apply_entry(entry, producer=producer)

    def close(self) -> None:
        if self._holds_lock:
            try:
                if self._redis.get(LOCK_KEY) == self._lock_owner.encode():
                    self._redis.delete(LOCK_KEY)
            except redis.RedisError:
                pass
        super().close()
