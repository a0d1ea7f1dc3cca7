"""The Celery app: three queues by urgency, late acks, one task prefetched at a time.

    celery -A config worker -Q high        # also: -Q default, -Q low -O fair
    celery -A config beat

A ``CELERY_*`` Django setting overrides the defaults set here. Tenant-aware
tasks (the schema name travels as the first keyword argument) come in a later change.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

QUEUES = ("high", "default", "low")


def kombu_redis_url(url: str) -> str:
    """A redis-py URL as kombu understands it.

    redis-py writes a unix socket as ``unix:///path/redis.socket?db=N``; kombu wants
    ``redis+socket:///path/redis.socket?virtual_host=N``. TCP URLs pass unchanged.
    """
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    query = urlencode(
        [("virtual_host" if key == "db" else key, value) for key, value in parse_qsl(parts.query)]
    )
    return f"redis+socket://{parts.netloc}{parts.path}" + (f"?{query}" if query else "")


def broker_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """CELERY_BROKER_URL, else REDIS_URL; None when neither is set (nothing to connect)."""
    url = environ.get("CELERY_BROKER_URL") or environ.get("REDIS_URL")
    return kombu_redis_url(url) if url else None


# Celery also reads CELERY_BROKER_URL from the environment itself, verbatim: give it the
# kombu spelling too, or a unix-socket URL there would bypass broker_url() below.
if os.environ.get("CELERY_BROKER_URL", "").startswith("unix:"):
    os.environ["CELERY_BROKER_URL"] = kombu_redis_url(os.environ["CELERY_BROKER_URL"])

app = Celery("tenantry")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Defaults: a CELERY_* Django setting (say CELERY_WORKER_PREFETCH_MULTIPLIER) overrides them.
DEFAULTS = {
    "broker_url": broker_url(),
    "broker_connection_retry_on_startup": True,
    # One direct exchange and routing key per queue: a Queue declared by name only
    # would be bound with the default key, and one message would land in all three.
    "task_queues": [Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
    "task_default_queue": "default",
    "task_default_exchange": "default",
    "task_default_routing_key": "default",
    "task_create_missing_queues": False,
    # A task is acknowledged after it ran, and given back if its worker process dies,
    # so tasks must be idempotent. One message reserved per process at a time.
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "task_ignore_result": True,
    "timezone": "UTC",
    "enable_utc": True,
}


def _defaults_not_in_django_settings() -> dict[str, object]:
    # Celery ranks add_defaults() above the config object, so a default given for a key
    # would silently beat the CELERY_* Django setting of the same key: leave those out.
    from django.conf import settings

    return {
        key: value
        for key, value in DEFAULTS.items()
        if not hasattr(settings, f"CELERY_{key.upper()}")
    }


app.add_defaults(_defaults_not_in_django_settings)
app.autodiscover_tasks()
