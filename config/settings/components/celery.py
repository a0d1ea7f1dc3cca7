"""Celery settings (the app itself is config/celery.py). CELERY_* names, read by the app."""

from datetime import timedelta

from celery.schedules import crontab

# Soft limit raises inside the task (it can clean up); the hard limit kills the process.
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
# A broker that is down must not hang a request: fail fast, the outbox keeps the task.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_connections": 20,
    # Unacked messages of a dead worker come back after this; must exceed the hard limit.
    "visibility_timeout": 600,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULER = "apps.jobs.beat:SingleBeatScheduler"
CELERY_BEAT_SCHEDULE = {
    "jobs.outbox_relay": {"task": "jobs.outbox_relay", "schedule": timedelta(seconds=30)},
    # Expired report files and runs, per tenant, spread over ten minutes.
    "reports.cleanup": {
        "task": "jobs.fanout",
        "kwargs": {"task_name": "reports.cleanup", "window_seconds": 600},
        "schedule": crontab(hour=3, minute=0),
    },
    # Abandoned shifts close at the employee's local midnight, so the check runs often;
    # only tenants with the hr module get it, spread over five minutes.
    "hr.attendance_auto_close": {
        "task": "jobs.fanout",
        "kwargs": {
            "task_name": "hr.attendance_auto_close",
            "module": "hr",
            "window_seconds": 300,
        },
        "schedule": timedelta(minutes=15),
    },
    # Leave accrual: daily, so a new month or year is posted on its first day; re-runs in
    # a period post nothing. Only tenants with the hr module, spread over ten minutes.
    "hr.leave_accrue": {
        "task": "jobs.fanout",
        "kwargs": {"task_name": "hr.leave_accrue", "module": "hr", "window_seconds": 600},
        "schedule": crontab(hour=0, minute=30),
    },
    # Pipeline monitoring, only for tenants with the module. Detection, escalation and
    # dispatch offers are minute-grained (an unacknowledged leak must escalate on time),
    # spread over 30 s.
    **{
        name: {
            "task": "jobs.fanout",
            "kwargs": {"task_name": name, "module": "pipeline", "window_seconds": 30},
            "schedule": timedelta(minutes=1),
        }
        for name in (
            "pipeline.detect",
            "pipeline.escalation_scan",
            "pipeline.dispatch_offers_expire",
        )
    },
    # Yesterday's water balance, recomputed hourly so late readings still count (an
    # upsert per zone and day).
    "pipeline.water_balance": {
        "task": "jobs.fanout",
        "kwargs": {
            "task_name": "pipeline.water_balance",
            "module": "pipeline",
            "window_seconds": 600,
        },
        "schedule": crontab(minute=20),
    },
    # Reading partitions for this month and the next two, created ahead.
    "pipeline.reading_partitions_ahead": {
        "task": "jobs.fanout",
        "kwargs": {
            "task_name": "pipeline.reading_partitions_ahead",
            "module": "pipeline",
            "window_seconds": 600,
        },
        "schedule": crontab(hour=1, minute=0),
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
