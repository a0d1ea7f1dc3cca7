"""Settings of the workers and beats that tests/jobs starts (never of the test process).

``config.settings.test`` plus the test-only tasks; for the chaos workers a short Redis
visibility timeout (the default, 600 s, would make "a dead worker's message comes back"
take ten minutes); for a worker on a shared broker, queues of its own.
"""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import CELERY_BROKER_TRANSPORT_OPTIONS as _TRANSPORT_OPTIONS

CELERY_IMPORTS = ["tests.jobs.tasks_for_tests"]

_VISIBILITY_TIMEOUT = os.environ.get("TENANTRY_TEST_VISIBILITY_TIMEOUT")
if _VISIBILITY_TIMEOUT:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **_TRANSPORT_OPTIONS,
        "visibility_timeout": int(_VISIBILITY_TIMEOUT),
        # How often a worker looks for unacknowledged messages past that timeout (every
        # interval x throttle seconds; kombu defaults to 10 x 10).
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

_QUEUE_SUFFIX = os.environ.get("TENANTRY_TEST_QUEUE_SUFFIX")
if _QUEUE_SUFFIX:
    from tests.jobs.live import QUEUES, isolated_queue

    CELERY_TASK_QUEUES = [isolated_queue(name, _QUEUE_SUFFIX) for name in QUEUES]
    CELERY_TASK_DEFAULT_QUEUE = f"default.{_QUEUE_SUFFIX}"
