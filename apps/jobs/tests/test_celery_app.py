"""config/celery.py: broker URL spelling, queues, and which settings win."""

from __future__ import annotations

import pytest

from config import celery as celery_config
from config.celery import app, broker_url, kombu_redis_url

# No query here, but the shared session fixtures need the test database to exist.
pytestmark = pytest.mark.django_db


def test_a_unix_socket_url_becomes_kombus_spelling():
    assert (
        kombu_redis_url("unix:///run/redis/redis.socket?db=3")
        == "redis+socket:///run/redis/redis.socket?virtual_host=3"
    )
    assert kombu_redis_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_the_broker_is_celery_broker_url_else_redis_url():
    amqp = "amqp://guest:guest@127.0.0.1:5672//"
    redis_url = "unix:///tmp/redis.socket"

    assert broker_url({"CELERY_BROKER_URL": amqp, "REDIS_URL": redis_url}) == amqp
    assert broker_url({"REDIS_URL": redis_url}) == "redis+socket:///tmp/redis.socket"
    assert broker_url({}) is None


def test_each_queue_has_its_own_exchange_and_routing_key():
    queues = {queue.name: queue for queue in app.conf.task_queues}

    assert sorted(queues) == ["default", "high", "low"]
    for name, queue in queues.items():
        assert (queue.exchange.name, queue.routing_key) == (name, name)
    assert (app.conf.task_acks_late, app.conf.task_reject_on_worker_lost) == (True, True)
    assert app.conf.worker_prefetch_multiplier == 1


def test_a_celery_django_setting_beats_the_apps_default(settings):
    settings.CELERY_WORKER_PREFETCH_MULTIPLIER = 4

    defaults = celery_config._defaults_not_in_django_settings()  # noqa: SLF001

    assert "worker_prefetch_multiplier" not in defaults
    assert defaults["task_acks_late"] is True
