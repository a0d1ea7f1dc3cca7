"""SingleBeatScheduler's lock, without a beat process (tests/jobs/test_beat.py runs two)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

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
