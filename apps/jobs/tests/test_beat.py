"""SingleBeatScheduler's lock, without a beat process (tests/jobs/test_beat.py runs two)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.schedules import schedule

from apps.jobs.beat import LOCK_KEY, SingleBeatScheduler, _redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduler(monkeypatch):
    from config.celery import app

    scheduler = SingleBeatScheduler(app=app, lazy=True)
    sent: list[str] = []

    def apply_async(entry, producer=None, advance=False) -> None:
        sent.append(entry.name)

    monkeypatch.setattr(scheduler, "apply_async", apply_async)
    scheduler.sent = sent
    _redis().delete(LOCK_KEY)
    yield scheduler
    _redis().delete(LOCK_KEY)


ENTRY = SimpleNamespace(name="reports.cleanup", task="jobs.fanout")


def test_the_lock_holder_sends(scheduler):
    scheduler.apply_entry(ENTRY)

    assert scheduler.sent == ["reports.cleanup"]
    assert _redis().get(LOCK_KEY).decode() == scheduler._lock_owner  # noqa: SLF001


def test_a_beat_whose_lock_was_taken_over_mid_tick_sends_nothing(scheduler):
    scheduler._holds_lock = True  # noqa: SLF001 - it held the lock when its tick began
    _redis().set(LOCK_KEY, "other-host:4242:abcd", px=30_000)

    scheduler.apply_entry(ENTRY)

    assert scheduler.sent == []
    assert _redis().get(LOCK_KEY) == b"other-host:4242:abcd"


def test_an_entry_seen_due_again_right_after_it_was_sent_is_not_sent_twice(scheduler):
    every_second = SimpleNamespace(
        name="tenant:alpha:1", task="schedules.fire", schedule=schedule(timedelta(seconds=1))
    )

    scheduler.apply_entry(every_second)
    scheduler.apply_entry(every_second)

    assert scheduler.sent == ["tenant:alpha:1"]


def test_an_entry_is_sent_again_once_half_its_period_has_passed(scheduler, monkeypatch):
    every_second = SimpleNamespace(
        name="tenant:alpha:1", task="schedules.fire", schedule=schedule(timedelta(seconds=1))
    )
    clock = iter([100.0, 100.6])
    monkeypatch.setattr("apps.jobs.beat._clock", lambda: next(clock))

    scheduler.apply_entry(every_second)
    scheduler.apply_entry(every_second)

    assert scheduler.sent == ["tenant:alpha:1", "tenant:alpha:1"]
