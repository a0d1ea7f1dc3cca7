"""detection_run: each rule kind on a crafted series and on a normal one, calibration,
one alarm per sensor (or zone) and kind, clearing, incidents for leaks, realtime events,
and a query count that does not grow with the number of sensors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.pipeline.models import Alarm, DetectionRule
from apps.pipeline.services import detection as services
from apps.pipeline.services import incidents as incident_services
from apps.pipeline.tests.factories import asset_make, sensor_make, zone_make
from apps.pipeline.tests.helpers_detection import (
    T0,
    balance_sensors,
    readings_add,
    readings_partition_ensure,
    rule_make,
    series,
    zone_with_sensor,
)

MINUTE = timedelta(minutes=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _partition(in_tenant_b) -> None:
    readings_partition_ensure()


@pytest.fixture
def events(monkeypatch) -> list[tuple[str, dict, list]]:
    """Every realtime event the pass publishes: (type, payload, user ids)."""
    from apps.realtime import publish

    sent: list[tuple[str, dict, list]] = []

    def capture(*, event_type: str, payload: dict, user_ids: Any = (), **kwargs: Any) -> None:
        sent.append((event_type, payload, list(user_ids)))

    monkeypatch.setattr(publish, "publish_event", capture)
    return sent


@pytest.fixture
def opened(monkeypatch) -> list[Any]:
    """Stands in for incidents.incident_open_from_alarm: records the alarms it got."""
    calls: list[Any] = []

    def fake(*, alarm: Any) -> None:
        calls.append(alarm.pk)

    monkeypatch.setattr(incident_services, "incident_open_from_alarm", fake, raising=False)
    return calls


def _alarms(**filters: Any) -> list[Alarm]:
    return list(Alarm.objects.filter(**filters).order_by("created_at"))


# --- each kind -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "threshold", "values", "raised"),
    [
        ("threshold_high", 80.0, [50, 60, 85], True),
        ("threshold_high", 80.0, [90, 95, 70], False),  # only the latest counts
        ("threshold_low", 20.0, [50, 40, 15], True),
        ("threshold_low", 20.0, [50, 40, 25], False),
    ],
)
def test_threshold_rules_judge_the_latest_reading(kind, threshold, values, raised):
    zone, sensor = zone_with_sensor()
    rule = rule_make(kind=kind, sensor=sensor, threshold=threshold)
    series(sensor, values, step=MINUTE)

    summary = services.detection_run(now=T0)

    alarms = _alarms(sensor=sensor, kind=kind)
    if raised:
        assert [(a.status, a.value, a.rule_id, a.zone_id) for a in alarms] == [
            ("active", values[-1], rule.pk, zone.pk)
        ]
        assert summary.raised == [str(alarms[0].pk)]
    else:
        assert alarms == []
        assert summary.raised == []


def test_readings_outside_the_window_are_not_judged():
    _, sensor = zone_with_sensor()
    rule_make(kind="threshold_high", sensor=sensor, threshold=80.0, window_minutes=15)
    readings_add(sensor, [(T0 - timedelta(minutes=20), 99.0)])

    services.detection_run(now=T0)

    assert _alarms(sensor=sensor) == []


def test_calibration_is_applied_before_judging():
    _, calibrated = zone_with_sensor(calibration_factor=2.0, calibration_offset=5.0)
    _, plain = zone_with_sensor()
    for sensor in (calibrated, plain):
        rule_make(kind="threshold_high", sensor=sensor, threshold=80.0)
        series(sensor, [40.0], step=MINUTE)  # 40 raw; 40 * 2 + 5 = 85 calibrated

    services.detection_run(now=T0)

    assert [(a.sensor_id, a.value) for a in _alarms(kind="threshold_high")] == [
        (calibrated.pk, 85.0)
    ]


@pytest.mark.parametrize(
    ("values", "raised", "rate"),
    [([10, 10, 30, 31], True, 20.0), ([10, 11, 12, 13], False, None)],
)
def test_rate_of_change_takes_the_steepest_step(values, raised, rate):
    _, sensor = zone_with_sensor()
    rule_make(kind="rate_of_change", sensor=sensor, threshold=5.0)
    series(sensor, values, step=MINUTE)

    services.detection_run(now=T0)

    alarms = _alarms(sensor=sensor, kind="rate_of_change")
    assert [a.value for a in alarms] == ([rate] if raised else [])


def test_rate_of_change_is_per_minute_of_the_actual_gap():
    _, sensor = zone_with_sensor()
    rule_make(kind="rate_of_change", sensor=sensor, threshold=5.0)
    # 20 units over 5 minutes: 4 per minute, under the limit.
    series(sensor, [10, 30], step=5 * MINUTE)

    services.detection_run(now=T0)

    assert _alarms(sensor=sensor) == []


@pytest.mark.parametrize(
    ("values", "raised"),
    [
        ([3.0, 3.0, 3.0, 3.0, 3.0], True),
        ([3.0, 3.01, 3.0, 3.02, 3.0], True),  # spread 0.02 under 0.05
        ([3.0, 3.2, 2.9, 3.1, 3.0], False),
        ([3.0, 3.0], False),  # too few readings to call it stuck
    ],
)
def test_flat_line_needs_a_small_spread_over_enough_readings(values, raised):
    _, sensor = zone_with_sensor(kind="pressure", unit="bar", valid_max=16.0)
    rule_make(kind="flat_line", sensor=sensor, threshold=0.05)
    series(sensor, values, step=MINUTE)

    services.detection_run(now=T0)

    assert len(_alarms(sensor=sensor, kind="flat_line")) == (1 if raised else 0)


def test_missing_data_raises_for_a_silent_active_sensor_only():
    _, silent = zone_with_sensor()
    _, talking = zone_with_sensor()
    _, switched_off = zone_with_sensor(is_active=False)
    for sensor in (silent, talking, switched_off):
        rule_make(kind="missing_data", sensor=sensor, window_minutes=15)
    readings_add(silent, [(T0 - timedelta(minutes=30), 1.0)])
    readings_add(talking, [(T0 - timedelta(minutes=5), 1.0)])

    services.detection_run(now=T0)

    alarms = _alarms(kind="missing_data")
    assert [(a.sensor_id, a.value) for a in alarms] == [(silent.pk, 30.0)]


def test_missing_data_waits_a_window_after_the_rule_is_made():
    from django.utils import timezone

    _, sensor = zone_with_sensor()
    rule_make(kind="missing_data", sensor=sensor, window_minutes=15)

    services.detection_run(now=timezone.now() + timedelta(minutes=5))

    assert _alarms(sensor=sensor) == []


def _pressure_history(sensor: Any, *, baseline: float, recent: float) -> None:
    # Window 10 min: 60 minutes of baseline before the last 10 minutes.
    readings_add(sensor, [(T0 - timedelta(minutes=m), baseline) for m in range(12, 70, 2)])
    readings_add(sensor, [(T0 - timedelta(minutes=m), recent) for m in range(0, 10, 2)])


@pytest.mark.parametrize(("recent", "raised"), [(3.0, True), (4.5, False)])
def test_pressure_drop_compares_with_the_baseline(recent, raised, opened):
    _, sensor = zone_with_sensor(kind="pressure", unit="bar", valid_max=16.0)
    rule_make(kind="pressure_drop", sensor=sensor, threshold=20.0, window_minutes=10)
    _pressure_history(sensor, baseline=5.0, recent=recent)

    services.detection_run(now=T0)

    alarms = _alarms(sensor=sensor, kind="pressure_drop")
    if raised:
        assert [round(a.value, 6) for a in alarms] == [40.0]
        assert alarms[0].details["baseline_mean"] == 5.0
        assert opened == [alarms[0].pk]  # a leak kind opens an incident
    else:
        assert alarms == []
        assert opened == []


def _zone_flows(zone: Any, *, inflow: float, outflow: float, consumption: float) -> None:
    sensors = balance_sensors(zone)
    for role, rate in (("inflow", inflow), ("outflow", outflow), ("consumption", consumption)):
        series(sensors[role], [rate] * 5, step=2 * MINUTE)


@pytest.mark.parametrize(("consumption", "raised"), [(70.0, True), (88.0, False)])
def test_flow_imbalance_is_unaccounted_inflow_in_percent(consumption, raised, opened):
    zone = zone_make()
    rule = rule_make(kind="flow_imbalance", zone=zone, threshold=15.0)
    _zone_flows(zone, inflow=100.0, outflow=10.0, consumption=consumption)

    services.detection_run(now=T0)

    alarms = _alarms(zone=zone, kind="flow_imbalance")
    if raised:
        assert [(a.sensor_id, a.rule_id, round(a.value, 6)) for a in alarms] == [
            (None, rule.pk, 20.0)
        ]
        assert opened == [alarms[0].pk]
    else:
        assert alarms == []


def test_flow_imbalance_counts_only_the_zones_own_sensors():
    zone = zone_make()
    other = zone_make()
    rule_make(kind="flow_imbalance", zone=zone, threshold=15.0)
    _zone_flows(zone, inflow=100.0, outflow=10.0, consumption=85.0)
    _zone_flows(other, inflow=500.0, outflow=0.0, consumption=0.0)

    services.detection_run(now=T0)

    assert _alarms(kind="flow_imbalance") == []


@pytest.mark.parametrize(("inflow", "raised"), [(12.0, True), (6.0, False)])
def test_night_flow_is_the_smallest_hourly_net_flow_of_last_night(tenant_b, inflow, raised, opened):
    # Tokyo is UTC+9: 02:00-04:00 local on 15 January is 17:00-19:00 UTC on the 14th.
    tenant_b.time_zone = "Asia/Tokyo"
    zone = zone_make()
    rule_make(kind="night_flow", zone=zone, threshold=5.0)
    sensors = balance_sensors(zone)
    night_start = T0.replace(day=14, hour=17)
    minutes = range(0, 120, 10)
    readings_add(
        sensors["inflow"],
        [(night_start + timedelta(minutes=m), inflow + (3 if m < 60 else 0)) for m in minutes],
    )
    readings_add(sensors["outflow"], [(night_start + timedelta(minutes=m), 2.0) for m in minutes])
    # Daytime flows do not count.
    readings_add(sensors["inflow"], [(T0 - timedelta(minutes=5), 400.0)])

    services.detection_run(now=T0)  # 21:00 in Tokyo: last night is the one of the 15th

    alarms = _alarms(zone=zone, kind="night_flow")
    if raised:
        assert [round(a.value, 6) for a in alarms] == [inflow - 2.0]
        assert opened == [alarms[0].pk]
    else:
        assert alarms == []


def test_last_night_before_four_is_the_previous_one():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Amsterdam")
    at_three = T0.replace(hour=2)  # 03:00 in Amsterdam (UTC+1)

    start, end = services.last_night(now=at_three, tz=tz)

    assert (start, end) == (T0.replace(day=14, hour=1), T0.replace(day=14, hour=3))


# --- one alarm per sensor and kind --------------------------------------------------------


def test_repeated_detection_updates_the_one_active_alarm(opened):
    _, sensor = zone_with_sensor(kind="pressure", unit="bar", valid_max=16.0)
    rule_make(kind="pressure_drop", sensor=sensor, threshold=20.0, window_minutes=10)
    _pressure_history(sensor, baseline=5.0, recent=3.0)
    first = services.detection_run(now=T0)
    readings_add(sensor, [(T0 + MINUTE, 2.0)])

    second = services.detection_run(now=T0 + MINUTE)

    alarm = Alarm.objects.get(sensor=sensor)
    assert (alarm.status, alarm.detection_count) == ("active", 2)
    assert (alarm.first_detected_at, alarm.last_detected_at) == (T0, T0 + MINUTE)
    assert alarm.value > 40.0  # the latest figure: the newest reading is lower still
    assert (first.raised, second.raised, second.refreshed) == ([str(alarm.pk)], [], [str(alarm.pk)])
    assert opened == [alarm.pk]  # the incident is opened once, when the alarm is raised


def test_two_rules_of_one_kind_on_one_sensor_make_one_alarm_of_the_more_severe():
    _, sensor = zone_with_sensor()
    rule_make(kind="threshold_high", sensor=sensor, threshold=50.0, severity="low")
    severe = rule_make(kind="threshold_high", sensor=sensor, threshold=80.0, severity="high")
    series(sensor, [90.0], step=MINUTE)

    services.detection_run(now=T0)

    assert [(a.rule_id, a.severity) for a in _alarms(sensor=sensor)] == [(severe.pk, "high")]


def test_alarm_clears_when_the_condition_no_longer_holds(events):
    _, sensor = zone_with_sensor()
    rule_make(kind="threshold_high", sensor=sensor, threshold=80.0)
    series(sensor, [90.0], step=MINUTE)
    services.detection_run(now=T0)
    readings_add(sensor, [(T0 + MINUTE, 40.0)])

    summary = services.detection_run(now=T0 + MINUTE)

    alarm = Alarm.objects.get(sensor=sensor)
    assert (alarm.status, alarm.cleared_at) == ("cleared", T0 + MINUTE)
    assert summary.cleared == [str(alarm.pk)]
    assert [event[0] for event in events] == ["pipeline.alarm.raised", "pipeline.alarm.cleared"]


def test_a_cleared_alarm_is_followed_by_a_new_one_when_it_comes_back():
    _, sensor = zone_with_sensor()
    rule_make(kind="threshold_high", sensor=sensor, threshold=80.0)
    readings_add(sensor, [(T0, 90.0), (T0 + MINUTE, 40.0), (T0 + 2 * MINUTE, 95.0)])

    for step in range(3):
        services.detection_run(now=T0 + step * MINUTE)

    assert [(a.status, a.value) for a in _alarms(sensor=sensor)] == [
        ("cleared", 90.0),
        ("active", 95.0),
    ]


def test_alarms_of_a_deleted_or_deactivated_rule_clear():
    _, gone = zone_with_sensor()
    _, paused = zone_with_sensor()
    rules = [rule_make(kind="threshold_high", sensor=s, threshold=80.0) for s in (gone, paused)]
    for sensor in (gone, paused):
        series(sensor, [90.0], step=MINUTE)
    services.detection_run(now=T0)
    rules[0].delete()
    rules[1].is_active = False
    rules[1].save()

    services.detection_run(now=T0)

    assert sorted(a.status for a in _alarms(kind="threshold_high")) == ["cleared", "cleared"]


def test_events_go_to_the_zones_audience(events):
    from apps.pipeline.tests.factories import user_make

    zone, sensor = zone_with_sensor()
    watcher = user_make(roles=["viewer"], zones=[zone])
    stranger = user_make(roles=["viewer"], zones=[zone_make()])
    rule_make(kind="threshold_high", sensor=sensor, threshold=80.0)
    series(sensor, [90.0], step=MINUTE)

    services.detection_run(now=T0)

    alarm = Alarm.objects.get(sensor=sensor)
    [(event_type, payload, user_ids)] = events
    assert event_type == "pipeline.alarm.raised"
    assert payload["alarm_id"] == str(alarm.pk)
    assert payload["kind"] == "threshold_high"
    assert watcher.pk in user_ids
    assert stranger.pk not in user_ids


def test_only_rules_that_open_incidents_or_leak_kinds_call_the_incident_side(opened):
    _, quiet = zone_with_sensor()
    _, loud = zone_with_sensor()
    rule_make(kind="threshold_high", sensor=quiet, threshold=80.0)
    rule_make(kind="threshold_high", sensor=loud, threshold=80.0, opens_incident=True)
    for sensor in (quiet, loud):
        series(sensor, [90.0], step=MINUTE)

    services.detection_run(now=T0)

    assert opened == [Alarm.objects.get(sensor=loud).pk]


@pytest.mark.skipif(
    not hasattr(incident_services, "incident_open_from_alarm"),
    reason="incidents.incident_open_from_alarm is not written yet",
)
def test_a_leak_alarm_is_linked_to_an_incident():
    from apps.pipeline.tests.factories import team_make

    team_make()
    zone = zone_make()
    rule_make(kind="flow_imbalance", zone=zone, threshold=15.0)
    _zone_flows(zone, inflow=100.0, outflow=10.0, consumption=70.0)

    services.detection_run(now=T0)

    alarm = Alarm.objects.get(zone=zone, kind="flow_imbalance")
    assert alarm.incident is not None
    assert alarm.incident.zone_id == zone.pk


# --- cost ---------------------------------------------------------------------------------


def _fleet(count: int) -> None:
    zone = zone_make()
    asset = asset_make(zone=zone)
    for _ in range(count):
        sensor = sensor_make(asset=asset, kind="pressure", unit="bar", valid_max=16.0)
        for kind, threshold in (
            ("threshold_high", 8.0),
            ("rate_of_change", 1.0),
            ("flat_line", 0.01),
            ("missing_data", None),
            ("pressure_drop", 20.0),
        ):
            rule_make(kind=kind, sensor=sensor, threshold=threshold, window_minutes=10)
        # Every sensor trips its threshold, rate and flat-line rules.
        series(sensor, [9.0, 9.0, 9.0, 12.0, 12.0, 12.0], step=MINUTE)
    rule_make(kind="flow_imbalance", zone=zone, threshold=10.0)
    rule_make(kind="night_flow", zone=zone, threshold=1.0)


def test_query_count_does_not_grow_with_the_number_of_sensors():
    counts = []
    for size in (5, 50):
        _fleet(size)
        with CaptureQueriesContext(connection) as first:
            services.detection_run(now=T0)
        with CaptureQueriesContext(connection) as again:
            services.detection_run(now=T0)
        counts.append((len(first), len(again)))
        Alarm.objects.all().delete()
        DetectionRule.objects.all().delete()

    assert counts[0] == counts[1], counts
    assert Alarm.objects.count() == 0


# --- the scheduled task -------------------------------------------------------------------


def test_the_detect_task_runs_a_pass_in_the_tenant_it_is_given():
    from django.utils import timezone

    from apps.pipeline.services.ingestion import reading_partitions_ensure
    from apps.pipeline.tasks import detection as tasks
    from tests.personas import TENANT_B

    now = timezone.now()
    reading_partitions_ensure(months=[now, now - timedelta(days=1)])
    _, sensor = zone_with_sensor()
    rule_make(kind="threshold_high", sensor=sensor, threshold=80.0)
    readings_add(sensor, [(now - MINUTE, 90.0)])

    result = tasks.detect(schema_name=TENANT_B)

    assert result["raised"] == 1
    assert Alarm.objects.get(sensor=sensor).status == "active"
