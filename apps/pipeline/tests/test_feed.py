"""The simulated feed: normal values inside the sensors' valid ranges, the leak signature in
the leaking DMA only (pure functions, no HTTP), and ``pipeline_feed --once`` posting real
batches to a live server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from statistics import mean

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from apps.pipeline import demo
from tests.personas import TENANT_B
from tests.realtime.conftest import asgi_server  # noqa: F401 - the shared live server

TIME_ZONE = "Africa/Nairobi"
# 11:00 in Nairobi.
LEAK_AT = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
LEAK = demo.Leak(zone_code="NRB-KIL", starts_at=LEAK_AT)


def _specs() -> list[demo.FeedSensor]:
    """The demo's sensors as the feed sees them, without a database."""
    return [
        demo.FeedSensor(
            code=row["code"],
            kind=row["kind"],
            balance_role=row["balance_role"],
            zone_code=dma.code,
            reference_value=row["reference_value"],
            valid_min=row["valid_min"],
            valid_max=row["valid_max"],
            calibration_factor=row["calibration_factor"],
            calibration_offset=row["calibration_offset"],
        )
        for dma in demo.DMAS
        for row in demo._sensor_rows(dma)  # noqa: SLF001 - the seed's own rows
    ]


def _window(start: datetime, minutes: int, step_seconds: int = 15) -> list[datetime]:
    return [start + timedelta(seconds=s) for s in range(0, minutes * 60, step_seconds)]


def _mean(sensor: demo.FeedSensor, instants: list[datetime], leak=None) -> float:
    return mean(demo.true_value(sensor, at, time_zone=TIME_ZONE, leak=leak) for at in instants)


def _imbalance_pct(zone: str, instants: list[datetime], leak=None) -> float:
    """(inflow - outflow - consumption) / inflow over the window, as detection has it."""
    sums = {"inflow": 0.0, "outflow": 0.0, "consumption": 0.0}
    for sensor in _specs():
        if sensor.zone_code == zone and sensor.balance_role in sums:
            sums[sensor.balance_role] += _mean(sensor, instants, leak)
    return (sums["inflow"] - sums["outflow"] - sums["consumption"]) / sums["inflow"] * 100


def test_demand_follows_a_day_with_a_mean_of_one():
    factors = [demo.demand_factor(minute / 60) for minute in range(24 * 60)]

    assert mean(factors) == pytest.approx(1.0, abs=1e-6)
    assert demo.demand_factor(3) < 0.6
    assert demo.demand_factor(7) > 1.4
    assert demo.demand_factor(7) > demo.demand_factor(13) > demo.demand_factor(3)


def test_normal_values_stay_inside_the_valid_ranges_all_day():
    specs = _specs()
    day = datetime(2026, 3, 9, 21, 0, tzinfo=UTC)  # midnight in Nairobi

    for step in range(0, 24 * 60, 20):
        at = day + timedelta(minutes=step)
        for reading, sensor in zip(
            demo.feed_readings(specs, at, time_zone=TIME_ZONE), specs, strict=True
        ):
            assert sensor.valid_min < reading["value"] < sensor.valid_max, (sensor.code, at)
            if sensor.kind == "pressure" and sensor.code[-2:].isdigit():
                assert 2.5 < reading["value"] < 5.5, (sensor.code, at)


def test_readings_are_raw_values_that_calibrate_back_to_the_true_ones():
    sensor = next(s for s in _specs() if s.kind == "flow" and s.calibration_factor != 1)
    at = LEAK_AT - timedelta(hours=1)

    raw = demo.raw_value(sensor, at, time_zone=TIME_ZONE)

    true = demo.true_value(sensor, at, time_zone=TIME_ZONE)
    assert raw * sensor.calibration_factor + sensor.calibration_offset == pytest.approx(
        true, rel=1e-4
    )
    assert demo.raw_value(sensor, at, time_zone=TIME_ZONE) == raw  # deterministic


def test_a_healthy_district_loses_its_background_share_only():
    instants = _window(LEAK_AT - timedelta(minutes=40), 10)

    for dma in demo.DMAS:
        assert 4 < _imbalance_pct(dma.code, instants) < 12, dma.code


def test_the_leak_drops_pressure_raises_inflow_and_leaves_consumption_flat_in_its_zone_only():
    before = _window(LEAK_AT - timedelta(minutes=5), 5)
    during = _window(LEAK_AT, 5)

    for sensor in _specs():
        normal = _mean(sensor, during)
        leaking = _mean(sensor, during, LEAK)
        assert _mean(sensor, before, LEAK) == _mean(sensor, before)  # nothing before it
        if sensor.zone_code != LEAK.zone_code:
            assert leaking == normal, sensor.code
        elif sensor.kind == "pressure":
            assert leaking == pytest.approx(normal * 0.70), sensor.code
        elif sensor.balance_role == "inflow":
            assert leaking == pytest.approx(normal * 1.35), sensor.code
        elif sensor.balance_role == "consumption":
            assert leaking == normal, sensor.code


def test_the_leak_is_enough_for_the_demo_rules_to_fire():
    """pressure_drop: the 5-minute window's mean at least 15 % under the mean of the six
    windows before it; flow_imbalance: over 25 % of the 10-minute window's inflow."""
    key_sensor = next(s for s in _specs() if s.code == "NRB-KIL-PT-01")
    baseline = _mean(key_sensor, _window(LEAK_AT - timedelta(minutes=30), 30), LEAK)
    # Three minutes into the leak, the last 5 minutes are mostly leaking already.
    window = _window(LEAK_AT - timedelta(minutes=2), 5)
    drop_pct = (baseline - _mean(key_sensor, window, LEAK)) / baseline * 100

    assert drop_pct > 15
    assert _imbalance_pct("NRB-KIL", _window(LEAK_AT, 10), LEAK) > 25
    assert _imbalance_pct("NRB-KIL", _window(LEAK_AT - timedelta(minutes=3), 10), LEAK) > 25
    assert _imbalance_pct("NRB-CBD", _window(LEAK_AT, 10), LEAK) < 25
    # Ordinary demand swings raise no pressure drop.
    for hour in range(24):
        start = LEAK_AT + timedelta(hours=hour)
        quiet = _mean(key_sensor, _window(start - timedelta(minutes=30), 30))
        assert (quiet - _mean(key_sensor, _window(start, 5))) / quiet * 100 < 10


def test_the_acoustic_loggers_of_the_leaking_zone_get_louder():
    logger = next(s for s in _specs() if s.code == "NRB-KIL-AE-01")
    during = _window(LEAK_AT, 5)

    assert _mean(logger, during, LEAK) == pytest.approx(_mean(logger, during) * 2)


def test_a_batch_has_an_id_per_device_and_second_and_iso_instants_with_an_offset():
    specs = [s for s in _specs() if s.zone_code == "NRB-KIL"]
    at = datetime(2026, 3, 10, 8, 0, 15, tzinfo=UTC)

    batch = demo.feed_batch("GW-NRB-KIL", specs, at, time_zone=TIME_ZONE, leak=LEAK)

    assert batch["batch_id"] == "feed-GW-NRB-KIL-20260310T080015Z"
    assert len(batch["readings"]) == len(specs)
    assert {r["at"] for r in batch["readings"]} == {"2026-03-10T08:00:15+00:00"}
    assert batch == demo.feed_batch("GW-NRB-KIL", specs, at, time_zone=TIME_ZONE, leak=LEAK)
    later = demo.feed_batch("GW-NRB-KIL", specs, at + timedelta(seconds=15), time_zone=TIME_ZONE)
    assert later["batch_id"] != batch["batch_id"]


# --- the command against a live server -----------------------------------------------------


@pytest.fixture
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Committed access (as in tests/realtime): the live server must see the rows."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def feed_network(db) -> Iterator[dict]:
    """A committed DMA with a gateway and three of its sensors in tenant B. Afterwards
    everything the test and the live server committed goes: rows, audit entries, and
    the reading partitions the server made (other tests count on making them; a server
    that remembers one it made creates it again when it is gone)."""
    from auditlog.models import LogEntry

    from apps.core.tenancy import in_tenant
    from apps.pipeline.models import (
        Asset,
        Device,
        DeviceKey,
        IngestBatch,
        Reading,
        ReadingPartition,
        Sensor,
        Zone,
    )
    from apps.pipeline.services.ingestion import partition_name

    with in_tenant(TENANT_B):
        started = timezone.now()
        months_before = set(ReadingPartition.objects.values_list("month", flat=True))
        zone = Zone.objects.create(code="FEED-DMA", name="Feed DMA", kind="district")
        asset = Asset.objects.create(
            code="FEED-M-IN", name="Feed inlet", kind="meter", zone=zone, latitude=-1.29,
            longitude=36.78,
        )  # fmt: skip
        device = Device.objects.create(code="GW-FEED-DMA", name="Feed gateway", asset=asset)
        sensors = [
            Sensor.objects.create(
                code=code,
                asset=asset,
                zone=zone,
                device=device,
                kind=kind,
                unit=unit,
                valid_min=0,
                valid_max=high,
                reference_value=reference,
                balance_role=role,
            )  # fmt: skip
            for code, kind, unit, high, reference, role in [
                ("FEED-FIT-IN", "flow", "m3/h", 2000, 500.0, "inflow"),
                ("FEED-FIT-C01", "flow", "m3/h", 2000, 460.0, "consumption"),
                ("FEED-PT-01", "pressure", "bar", 16, 4.2, "none"),
            ]
        ]
    try:
        yield {"zone": zone, "device": device, "sensors": sensors}
    finally:
        with in_tenant(TENANT_B):
            Reading.objects.filter(sensor__in=sensors).delete()
            IngestBatch.objects.filter(device=device).delete()
            DeviceKey.objects.filter(device=device).delete()
            Sensor.all_objects.filter(pk__in=[s.pk for s in sensors]).delete()
            Device.all_objects.filter(pk=device.pk).delete()
            Asset.all_objects.filter(pk=asset.pk).delete()
            zone.delete()
            LogEntry.objects.filter(timestamp__gte=started).delete()
            made = ReadingPartition.objects.exclude(month__in=months_before)
            with connection.cursor() as cursor:
                for month in made.values_list("month", flat=True):
                    cursor.execute(f"DROP TABLE IF EXISTS {partition_name(month)}")
            made.delete()


def test_feed_once_posts_batches_the_live_server_accepts(asgi_server, feed_network):  # noqa: F811
    from apps.core.tenancy import in_tenant
    from apps.pipeline.models import DeviceKey, IngestBatch, Reading

    out = io.StringIO()
    call_command(
        "pipeline_feed",
        schema=TENANT_B,
        base_url=f"http://127.0.0.1:{asgi_server.port}",
        once=True,
        leak_after=0,
        leak_zone="FEED-DMA",
        stdout=out,
    )

    with in_tenant(TENANT_B):
        batch = IngestBatch.objects.get(device=feed_network["device"])
        assert batch.batch_id.startswith("feed-GW-FEED-DMA-")
        assert (batch.accepted_count, batch.rejected_count) == (3, 0)
        pressure = Reading.objects.get(sensor=feed_network["sensors"][2])
        assert pressure.value < 4.2 * 0.8  # leaking from the start
        assert DeviceKey.objects.filter(device=feed_network["device"]).count() == 1
    text = out.getvalue()
    assert "leak started in FEED-DMA" in text
    assert "3 accepted, 0 rejected" in text
    assert "tdk_" not in text  # no key printed


def test_feed_gives_up_on_a_server_that_never_answers(feed_network):
    with pytest.raises(CommandError, match="did not answer"):
        call_command(
            "pipeline_feed",
            schema=TENANT_B,
            base_url="http://127.0.0.1:9",
            once=True,
            wait=1.5,
            stdout=io.StringIO(),
        )


def test_feed_refuses_a_leak_zone_without_sensors(feed_network):
    with pytest.raises(CommandError, match="No sensors in zone 'NOPE'"):
        call_command(
            "pipeline_feed", schema=TENANT_B, leak_zone="NOPE", once=True, stdout=io.StringIO()
        )
