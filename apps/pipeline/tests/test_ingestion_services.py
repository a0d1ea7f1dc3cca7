"""readings_ingest called directly: a crash half-way stores nothing (so the device's retry
is a first delivery), and a replay answers what was stored, not a re-validation."""

from __future__ import annotations

import pytest

from apps.pipeline.tests import conftest_ingestion
from apps.pipeline.tests.conftest_ingestion import batch_count, reading, reading_count

pytestmark = pytest.mark.django_db
keyed = conftest_ingestion.keyed


def _services():
    from apps.pipeline.services import ingestion

    return ingestion


def test_a_crash_during_the_copy_stores_neither_batch_nor_readings(keyed, monkeypatch):
    net = keyed.network
    readings = [
        reading(net.north_flow, keyed.at(3), 1.0),
        reading(net.north_flow, keyed.at(2), 2.0),
    ]
    real_copy = _services()._copy_rows  # noqa: SLF001

    def crash(rows, batch_pk):
        real_copy(rows[:1], batch_pk)  # half the readings are in
        raise ConnectionError("the worker died")

    monkeypatch.setattr(_services(), "_copy_rows", crash)
    with pytest.raises(ConnectionError):
        _services().readings_ingest(device=net.logger, batch_id="crash", readings=readings)
    monkeypatch.undo()

    assert (reading_count(), batch_count()) == (0, 0)
    retry = _services().readings_ingest(device=net.logger, batch_id="crash", readings=readings)
    assert (retry.replayed, retry.accepted) == (False, 2)
    assert (reading_count(), batch_count()) == (2, 1)


def test_a_replay_answers_the_stored_report_even_after_the_sensor_changed(keyed):
    net = keyed.network
    readings = [reading(net.north_flow, keyed.at(3), 1.0), reading("NOPE", keyed.at(3), 1.0)]
    first = _services().readings_ingest(device=net.logger, batch_id="kept", readings=readings)
    net.north_flow.is_active = False
    net.north_flow.save(update_fields=["is_active"])

    again = _services().readings_ingest(device=net.logger, batch_id="kept", readings=readings)

    assert again.as_dict() == {**first.as_dict(), "replayed": True}
    assert (again.accepted, again.rejected) == (1, 1)
    assert (reading_count(), batch_count()) == (1, 1)


def test_values_and_instants_are_stored_exactly_whatever_the_offset(keyed):
    """The COPY text the service writes itself keeps every float bit and every instant."""
    from datetime import timedelta, timezone

    from apps.pipeline.tests.conftest_ingestion import stored_readings

    net = keyed.network
    nairobi = timezone(timedelta(hours=3))
    first = keyed.at(3).astimezone(nairobi)
    second = keyed.at(2).astimezone(timezone(timedelta(hours=-5, minutes=-30)))
    values = [0.1 + 0.2, 1e-7]
    readings = [
        reading(net.north_flow, first, values[0]),
        reading(net.north_pressure, second, values[1]),
        reading(net.north_flow, second, 7),  # an integer is stored as a float
    ]

    report = _services().readings_ingest(device=net.logger, batch_id="exact", readings=readings)

    assert report.accepted == 3
    assert stored_readings() == {
        (net.north_flow.pk, keyed.at(3), values[0]),
        (net.north_pressure.pk, keyed.at(2), values[1]),
        (net.north_flow.pk, keyed.at(2), 7.0),
    }
