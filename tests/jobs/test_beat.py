"""Two ``celery beat`` processes with the single-beat scheduler: each schedule fires once.

Both beats read the same ``PeriodicTask`` (public schema, every second) and send to the
package's live worker, which records every firing. Only the beat holding the Redis lock
sends; when it is killed the other takes over once the lock expires (the lock's TTL is
shortened to 3 s for this test by ``tests.jobs.run_beat``).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime, timedelta

import pytest

from tests.jobs.live import PYTHON, effects, effects_wait, wait_until

pytestmark = pytest.mark.slow

LOCK_TTL = 3
INTERVAL = 1.0
OBSERVED_SECONDS = 6.0


def beat_command(schedule_file) -> list[str]:
    return [
        PYTHON,
        "-m",
        "tests.jobs.run_beat",
        "-A",
        "config",
        "beat",
        "-S",
        "apps.jobs.beat:SingleBeatScheduler",
        "--schedule",
        str(schedule_file),
        "-l",
        "info",
    ]


def sends(log: str, task_name: str) -> int:
    return len(re.findall(rf"Sending due task .+? \({re.escape(task_name)}\)", log))


def send_times(log: str, task_name: str) -> list[float]:
    """When a beat sent ``task_name``, from its log lines (``2026-11-29 23:20:12,149 ...``):
    the send itself, which the worker's backlog on a busy machine cannot shift."""
    stamps = re.findall(
        rf"^(\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}}) .*Sending due task .+? "
        rf"\({re.escape(task_name)}\)",
        log,
        flags=re.MULTILINE,
    )
    # The beats' local clock; only differences between these are used.
    return [
        datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()  # noqa: DTZ007
        for stamp in stamps
    ]


def story(*beats) -> str:
    """Who held the lock and who sent when, for an assertion's message."""
    lines = []
    for beat in beats:
        lines += [
            f"{beat.name}: {line}"
            for line in beat.log_text().splitlines()
            if "holds the lock" in line or "Sending due task" in line or "lost the lock" in line
        ]
    return "\n".join(sorted(lines, key=lambda line: line.split(": ", 1)[1]))


def lock_owner_pid() -> int | None:
    from apps.jobs.beat import LOCK_KEY, _redis

    owner = _redis().get(LOCK_KEY)
    return int(owner.decode().split(":")[1]) if owner else None


@pytest.fixture
def periodic_tick(live_env):
    """A PeriodicTask firing ``tests.jobs.beat_tick`` every second. Every beat row that
    appears meanwhile (the beats also install CELERY_BEAT_SCHEDULE) is removed afterwards."""
    from django_celery_beat import models as beat_models

    from apps.core import tenancy

    # Dependents first: a PeriodicTask points at its schedule.
    beat_tables = [
        beat_models.PeriodicTask,
        beat_models.IntervalSchedule,
        beat_models.CrontabSchedule,
        beat_models.SolarSchedule,
        beat_models.ClockedSchedule,
        beat_models.PeriodicTasks,
    ]
    key = f"beat-{uuid.uuid4().hex[:8]}"
    with tenancy.in_public():
        before = {model: set(model.objects.values_list("pk", flat=True)) for model in beat_tables}
        every_second, _ = beat_models.IntervalSchedule.objects.get_or_create(
            every=1, period=beat_models.IntervalSchedule.SECONDS
        )
        beat_models.PeriodicTask.objects.create(
            name=f"tests-{key}",
            task="tests.jobs.beat_tick",
            interval=every_second,
            kwargs=json.dumps({"key": key}),
        )
    yield key
    with tenancy.in_public():
        for model in beat_tables:
            model.objects.exclude(pk__in=before[model]).delete()


def test_two_beats_fire_each_tick_once_and_the_survivor_takes_over(
    live_env, periodic_tick, tmp_path
):
    env = {"CELERY_BROKER_URL": live_env.broker_url, "TENANTRY_TEST_BEAT_LOCK_TTL": str(LOCK_TTL)}
    beats = [
        live_env.spawn(f"beat-{name}", beat_command(tmp_path / f"beat-{name}.db"), **env)
        for name in ("a", "b")
    ]
    by_pid = {beat.pid: beat for beat in beats}

    first = effects_wait(1, kind="beat", key=periodic_tick, timeout=45)[0]
    holder = by_pid[wait_until(lock_owner_pid, timeout=10, what="the beat lock")]
    other = next(beat for beat in beats if beat is not holder)
    started_at = first["at"]
    wait_until(
        lambda: (
            effects(kind="beat", key=periodic_tick)[-1]["at"]
            >= started_at + timedelta(seconds=OBSERVED_SECONDS)
        ),
        timeout=30,
        what=f"{OBSERVED_SECONDS:.0f} s of firings",
    )

    # Sends, not executions: the worker records an execution whenever it gets to it, and
    # on a busy machine two sends a second apart can run a few milliseconds apart.
    sent = sorted(
        send_times(holder.log_text(), "tests.jobs.beat_tick")
        + send_times(other.log_text(), "tests.jobs.beat_tick")
    )
    firings = [at for at in sent if at <= sent[0] + OBSERVED_SECONDS]
    gaps = [later - earlier for earlier, later in zip(firings, firings[1:], strict=False)]
    ticks = OBSERVED_SECONDS / INTERVAL
    # One firing per tick: as many as the elapsed intervals (give or take the edges),
    # never two at the same tick.
    assert ticks - 1 <= len(firings) <= ticks + 1, (gaps, story(holder, other))
    assert min(gaps) > INTERVAL / 3, (gaps, story(holder, other))
    assert sends(other.log_text(), "tests.jobs.beat_tick") == 0
    assert sends(holder.log_text(), "tests.jobs.beat_tick") >= len(firings)
    assert "holds the lock and sends schedules" in holder.log_text()

    holder.kill()
    killed_at = time.time()
    other.wait_for_log("holds the lock and sends schedules", timeout=LOCK_TTL + 15)
    taken_over = wait_until(
        lambda: [
            row
            for row in effects(kind="beat", key=periodic_tick)
            if row["at"].timestamp() > killed_at
        ],
        timeout=LOCK_TTL + 15,
        what="a firing after the takeover",
    )
    assert lock_owner_pid() == other.pid
    # The survivor waits for the dead holder's lock to expire, no longer.
    assert taken_over[0]["at"].timestamp() - killed_at < LOCK_TTL + 5
    assert sends(other.log_text(), "tests.jobs.beat_tick") >= 1
