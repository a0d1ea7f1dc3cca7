"""The dispatcher beat calls, and the platform's own schedulable heartbeat."""

from __future__ import annotations

import logging
from typing import Any

from apps.jobs.base import tenant_task
from apps.schedules import services

logger = logging.getLogger("tenantry.schedules")


@tenant_task(name=services.FIRE_TASK, queue=services.FIRE_QUEUE, bind=True, ignore_result=True)
def fire(self: Any, *, schema_name: str, schedule_id: str) -> None:
    """Every beat entry of every tenant names this task. It runs in ``schema_name`` (the
    base task enters it), so the schedule is looked up in that tenant only, and its
    current state decides: a deleted or disabled schedule never fires."""
    services.schedule_fire(schedule_id=schedule_id, message_id=self.request.id)


@tenant_task(name="schedules.heartbeat", queue="default", ignore_result=True)
def heartbeat(*, schema_name: str, schedule_run_id: str, note: str = "") -> None:
    """Proves a schedule fired end to end: marks its run finished (once)."""
    if services.schedule_run_finish(schedule_run_id=schedule_run_id):
        logger.info("Heartbeat for run %s %s", schedule_run_id, note)
