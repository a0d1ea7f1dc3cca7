"""water_balance_compute: the day's volumes per zone on a crafted day, tenant-local day
boundaries, coverage, minimum night flow, one row per zone and day, water-loss alarms."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.pipeline.models import Alarm, ZoneWaterBalance
from apps.pipeline.services import detection as services
from apps.pipeline.tests.factories import zone_make
from apps.pipeline.tests.helpers_detection import (
    balance_sensors,
    readings_add,
    readings_partition_ensure,
)

pytestmark = pytest.mark.django_db

DAY = date(2031, 1, 15)
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _partition(in_tenant_b) -> None:
    readings_partition_ensure()


def _hourly(sensor: Any, rate: float, *, start: datetime, hours: int = 24) -> None:
    """One reading per hour (the sensors' expected interval) at ``rate`` m3/h."""
    readings_add(sensor, [(start + HOUR * h + timedelta(minutes=30), rate) for h in range(hours)])


def _zone_day(*, inflow: float, outflow: float, consumption: float, start: datetime, **zone):
    """A zone whose three balance sensors report these day volumes (m3)."""
    zone = zone_make(**zone)
    sensors = balance_sensors(zone, expected_interval_seconds=3600)
    for role, volume in (("inflow", inflow), ("outflow", outflow), ("consumption", consumption)):
        _hourly(sensors[role], volume / 24.0, start=start)
    return zone, sensors


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo("UTC"))


def test_crafted_day_gives_loss_and_its_share():
    zone, _ = _zone_day(inflow=100.0, outflow=10.0, consumption=70.0, start=_utc_midnight(DAY))

    [balance] = services.water_balance_compute(day=DAY)

    assert balance.zone_id == zone.pk
    assert balance.day == DAY
    assert balance.inflow_m3 == pytest.approx(100.0)
    assert balance.outflow_m3 == pytest.approx(10.0)
    assert balance.consumption_m3 == pytest.approx(70.0)
    assert balance.loss_m3 == pytest.approx(20.0)
    assert balance.loss_pct == pytest.approx(20.0)
    assert balance.coverage == pytest.approx(1.0)


def test_calibration_applies_to_the_volumes():
    zone = zone_make()
    sensors = balance_sensors(zone, expected_interval_seconds=3600)
    sensors["inflow"].calibration_factor = 2.0
    sensors["inflow"].calibration_offset = 1.0
    sensors["inflow"].save()
    _hourly(sensors["inflow"], 2.0, start=_utc_midnight(DAY))  # calibrated 5 m3/h

    [balance] = services.water_balance_compute(day=DAY)

    assert balance.inflow_m3 == pytest.approx(120.0)


def test_the_day_is_the_tenants_local_day(tenant_b):
    # New York is UTC-5 in January: the 15th runs from 05:00 UTC to 05:00 UTC the next day.
    tenant_b.time_zone = "America/New_York"
    local_start = datetime(2031, 1, 15, 5, 0, tzinfo=ZoneInfo("UTC"))
    zone, sensors = _zone_day(inflow=100.0, outflow=10.0, consumption=70.0, start=local_start)
    # Just before and just after the local day, huge flows that must not count.
    readings_add(sensors["inflow"], [(local_start - timedelta(minutes=1), 900.0)])
    readings_add(sensors["inflow"], [(local_start + 24 * HOUR, 900.0)])

    [balance] = services.water_balance_compute(day=DAY)

    assert (balance.inflow_m3, balance.loss_m3) == (pytest.approx(100.0), pytest.approx(20.0))


def test_a_daylight_saving_day_has_its_own_length(tenant_b):
    # Amsterdam moves to summer time on 30 March 2031: that day has 23 hours.
    tenant_b.time_zone = "Europe/Amsterdam"
    from apps.pipeline.services.ingestion import reading_partitions_ensure

    reading_partitions_ensure(months=[date(2031, 3, 1)])
    zone = zone_make()
    inflow = balance_sensors(zone, expected_interval_seconds=3600)["inflow"]
    start = datetime(2031, 3, 29, 23, 0, tzinfo=ZoneInfo("UTC"))  # local midnight
    _hourly(inflow, 10.0, start=start, hours=23)

    [balance] = services.water_balance_compute(day=date(2031, 3, 30))

    assert balance.inflow_m3 == pytest.approx(230.0)
    # 23 of 23 readings for the inflow; the silent outflow and consumption meters count
    # as expected and missing.
    assert balance.coverage == pytest.approx(23 / 69)


def test_coverage_is_the_share_of_expected_readings():
    zone = zone_make()
    sensors = balance_sensors(zone, expected_interval_seconds=3600)
    _hourly(sensors["inflow"], 10.0, start=_utc_midnight(DAY))
    _hourly(sensors["outflow"], 1.0, start=_utc_midnight(DAY), hours=12)

    [balance] = services.water_balance_compute(day=DAY)

    assert balance.coverage == pytest.approx(36 / 72)


def test_no_inflow_leaves_the_share_empty():
    zone = zone_make()
    sensors = balance_sensors(zone, expected_interval_seconds=3600)
    _hourly(sensors["consumption"], 1.0, start=_utc_midnight(DAY))

    [balance] = services.water_balance_compute(day=DAY)

    assert (balance.inflow_m3, balance.loss_pct) == (0.0, None)
    assert balance.loss_m3 == pytest.approx(-24.0)


def test_minimum_night_flow_is_the_smallest_hourly_net_flow_between_two_and_four():
    zone = zone_make()
    sensors = balance_sensors(zone, expected_interval_seconds=600)
    midnight = _utc_midnight(DAY)
    # 00:00-06:00 every 10 minutes: 02:00-03:00 nets 9 - 1 = 8, 03:00-04:00 nets 6 - 1 = 5.
    rates = {0: 20.0, 1: 20.0, 2: 9.0, 3: 6.0, 4: 1.0, 5: 1.0}
    for hour, rate in rates.items():
        readings_add(
            sensors["inflow"],
            [(midnight + HOUR * hour + timedelta(minutes=m), rate) for m in range(0, 60, 10)],
        )
        readings_add(
            sensors["outflow"],
            [(midnight + HOUR * hour + timedelta(minutes=m), 1.0) for m in range(0, 60, 10)],
        )

    [balance] = services.water_balance_compute(day=DAY)

    assert balance.min_night_flow_m3h == pytest.approx(5.0)


def test_recomputing_updates_the_one_row_of_the_zone_and_day():
    zone, sensors = _zone_day(
        inflow=100.0, outflow=10.0, consumption=70.0, start=_utc_midnight(DAY)
    )
    [first] = services.water_balance_compute(day=DAY)
    # A late consumption reading arrives.
    readings_add(sensors["consumption"], [(_utc_midnight(DAY) + timedelta(minutes=45), 100 / 24)])

    [second] = services.water_balance_compute(day=DAY)

    assert second.pk == first.pk
    assert ZoneWaterBalance.objects.filter(zone=zone, day=DAY).count() == 1
    assert second.consumption_m3 > first.consumption_m3


def test_zones_without_balance_sensors_get_no_row():
    zone_make()

    assert services.water_balance_compute(day=DAY) == []
    assert ZoneWaterBalance.objects.count() == 0


def test_loss_above_the_zone_limit_raises_a_water_loss_alarm_and_clears_below_it():
    zone, sensors = _zone_day(
        inflow=100.0,
        outflow=10.0,
        consumption=70.0,
        start=_utc_midnight(DAY),
        loss_alarm_pct=15,
    )

    services.water_balance_compute(day=DAY)

    alarm = Alarm.objects.get(zone=zone, kind="water_loss")
    assert (alarm.status, alarm.sensor_id, alarm.rule_id) == ("active", None, None)
    assert alarm.value == pytest.approx(20.0)
    assert alarm.details["day"] == DAY.isoformat()

    # Late consumption readings lift the day's mean to 80 m3: loss 10 m3 = 10%.
    readings_add(
        sensors["consumption"],
        [(_utc_midnight(DAY) + HOUR * h + timedelta(minutes=15), 90 / 24) for h in range(24)],
    )
    services.water_balance_compute(day=DAY)

    alarm.refresh_from_db()
    assert alarm.status == "cleared"
    assert Alarm.objects.filter(zone=zone, kind="water_loss", status="active").count() == 0


def test_recomputing_an_older_day_leaves_the_alarm_of_the_latest_day_alone():
    zone, _ = _zone_day(
        inflow=100.0,
        outflow=10.0,
        consumption=70.0,
        start=_utc_midnight(DAY),
        loss_alarm_pct=15,
    )
    services.water_balance_compute(day=DAY)
    # The day before had no readings and a balance of its own already.
    earlier = DAY - timedelta(days=1)
    ZoneWaterBalance.objects.create(zone=zone, day=earlier, inflow_m3=50.0, loss_pct=0.0)
    _hourly(
        balance_sensors(zone, expected_interval_seconds=3600)["inflow"],
        1.0,
        start=_utc_midnight(earlier),
    )

    services.water_balance_compute(day=earlier)

    alarm = Alarm.objects.get(zone=zone, kind="water_loss")
    assert (alarm.status, alarm.detection_count) == ("active", 1)
    assert alarm.details["day"] == DAY.isoformat()


def test_loss_within_the_limit_raises_nothing():
    zone, _ = _zone_day(
        inflow=100.0, outflow=10.0, consumption=70.0, start=_utc_midnight(DAY), loss_alarm_pct=25
    )

    services.water_balance_compute(day=DAY)

    assert not Alarm.objects.filter(zone=zone).exists()


def test_a_poorly_covered_day_raises_no_water_loss_alarm():
    zone = zone_make(loss_alarm_pct=10)
    sensors = balance_sensors(zone, expected_interval_seconds=3600)
    _hourly(sensors["inflow"], 10.0, start=_utc_midnight(DAY))  # meters silent: 1/3 coverage

    [balance] = services.water_balance_compute(day=DAY)

    assert balance.loss_pct == pytest.approx(100.0)
    assert not Alarm.objects.filter(zone=zone).exists()


def test_the_task_computes_yesterday_in_the_tenants_time_zone(monkeypatch):
    from apps.pipeline.tasks import detection as tasks
    from tests.personas import TENANT_B

    seen = []
    monkeypatch.setattr(
        services, "water_balance_compute", lambda *, day: seen.append(day) or ["row"]
    )
    monkeypatch.setattr(services, "tenant_time_zone", lambda: ZoneInfo("Pacific/Auckland"))
    # 20:00 UTC on the 15th is 09:00 on the 16th in Auckland: yesterday is the 15th there.
    monkeypatch.setattr(
        tasks.timezone, "now", lambda: datetime(2031, 1, 15, 20, 0, tzinfo=ZoneInfo("UTC"))
    )

    computed = tasks.water_balance.run(schema_name=TENANT_B)

    assert (computed, seen) == (1, [DAY])
