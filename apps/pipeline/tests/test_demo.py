"""seed_pipeline_demo: a realistic network in tenant B (which has the pipeline module), and
running it twice adds nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core.tenancy import in_tenant
from apps.pipeline import demo
from tests.personas import TENANT_B

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 7, 30, tzinfo=UTC)


def _snapshot() -> dict:
    from apps.accounts.models import ScopeGrant, User
    from apps.pipeline.models import (
        Asset,
        DetectionRule,
        Device,
        EscalationLevel,
        EscalationPolicy,
        FieldTeam,
        Reading,
        Sensor,
        TeamMember,
        Zone,
    )

    with in_tenant(TENANT_B):
        return {
            "zones": Zone.objects.count(),
            "assets": Asset.all_objects.count(),
            "sensors": Sensor.all_objects.count(),
            "devices": Device.all_objects.count(),
            "teams": FieldTeam.all_objects.count(),
            "members": TeamMember.objects.count(),
            "users": User.objects.count(),
            "grants": ScopeGrant.objects.count(),
            "rules": DetectionRule.objects.count(),
            "policies": EscalationPolicy.objects.count(),
            "levels": EscalationLevel.objects.count(),
            "readings": Reading.objects.count(),
        }


def test_seed_builds_the_nairobi_network_and_a_second_run_adds_nothing():
    demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW)
    first = _snapshot()

    again = demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW)

    assert again.created == 0
    assert again.readings == 0
    assert _snapshot() == first
    assert first["zones"] == 1 + len(demo.DMAS)
    assert 250 <= first["assets"] <= 400
    assert 180 <= first["sensors"] <= 400
    assert first["devices"] == len(demo.DMAS)
    assert first["teams"] == 12
    assert first["members"] == 12 * demo.CREWS_PER_TEAM
    assert first["rules"] >= 4 * len(demo.DMAS)
    assert first["policies"] == 3


def test_the_network_is_consistent_and_realistic():
    from apps.pipeline.models import Asset, DetectionRule, FieldTeam, Sensor, Zone

    demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW)

    with in_tenant(TENANT_B):
        network = Zone.objects.get(code=demo.NETWORK_CODE)
        districts = Zone.objects.filter(parent=network)
        assert districts.count() == 6
        assert set(districts.values_list("kind", flat=True)) == {"district"}
        # Around Nairobi.
        for latitude, longitude in Asset.all_objects.values_list("latitude", "longitude"):
            assert -1.40 < latitude < -1.20
            assert 36.70 < longitude < 36.93
        assert set(Asset.all_objects.values_list("kind", flat=True)) == {
            "pipe_segment",
            "valve",
            "pump",
            "meter",
            "tank",
        }
        sensors = Sensor.all_objects.select_related("asset", "device", "zone")
        for sensor in sensors:
            assert sensor.zone_id == sensor.asset.zone_id
            assert sensor.device.code == f"GW-{sensor.zone.code}"
            assert sensor.valid_min < sensor.reference_value < sensor.valid_max
        units = dict(sensors.values_list("kind", "unit").distinct())
        assert units == {"flow": "m3/h", "pressure": "bar", "level": "m", "acoustic": "dB"}
        for kind, (low, high) in {"flow": (0, 2000), "pressure": (0, 16), "level": (0, 10)}.items():
            assert set(sensors.filter(kind=kind).values_list("valid_min", "valid_max")) == {
                (low, high)
            }
        for district in districts:
            roles = list(sensors.filter(zone=district).values_list("balance_role", flat=True))
            assert roles.count("inflow") == 1
            assert roles.count("consumption") == demo.CONSUMPTION_METERS
            assert DetectionRule.objects.filter(zone=district, kind="flow_imbalance").exists()
            assert DetectionRule.objects.filter(
                sensor__zone=district, kind="pressure_drop"
            ).exists()
        assert sensors.filter(kind="pressure", calibrated_on__isnull=False).count() > 100
        skills = {skill for team in FieldTeam.all_objects.all() for skill in team.skills}
        assert {"leak_repair", "valve", "pump", "electrical"} <= skills


def test_demo_people_see_what_their_job_needs():
    from apps.accounts.models import User
    from apps.accounts.selectors import actor_for_user
    from apps.pipeline.models import Zone
    from apps.pipeline.selectors.network import zone_ids_visible

    demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW)

    with in_tenant(TENANT_B):
        every_zone = {str(pk) for pk in Zone.objects.values_list("pk", flat=True)}
        dispatcher = actor_for_user(user=User.objects.get(username="dispatcher"))
        assert zone_ids_visible(actor=dispatcher) == every_zone
        assert dispatcher.has_perm("pipeline.approve_incident_handling")
        operator = actor_for_user(user=User.objects.get(username="district_operator"))
        kilimani = Zone.objects.get(code=demo.DISTRICT_OPERATOR_ZONE)
        assert zone_ids_visible(actor=operator) == {str(kilimani.pk)}
        crew = User.objects.get(username="crew1")
        assert crew.check_password(demo.DEMO_PASSWORD)
        assert crew.field_teams.get().code == "T01"


def test_escalation_policies_go_to_the_dispatcher_then_the_tenant_admins():
    from apps.pipeline.models import EscalationPolicy

    demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW)

    with in_tenant(TENANT_B):
        high = EscalationPolicy.objects.get(severity="high", is_active=True)
        levels = list(high.levels.order_by("level"))
        assert [level.delay_minutes for level in levels] == [2, 5]
        assert list(levels[0].users.values_list("username", flat=True)) == ["dispatcher"]
        assert list(levels[1].roles.values_list("slug", flat=True)) == ["tenant_admin"]
        medium = EscalationPolicy.objects.get(severity="medium", is_active=True)
        assert [level.delay_minutes for level in medium.levels.all()] == [10]


def test_history_covers_yesterday_and_today_and_is_topped_up_later():
    from apps.pipeline.models import Reading, Sensor, ZoneWaterBalance
    from apps.pipeline.services import detection, ingestion

    if not hasattr(ingestion, "reading_partitions_ensure"):
        pytest.skip("ingestion's reading_partitions_ensure is not there yet: no backfill")
    result = demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW)

    with in_tenant(TENANT_B):
        sensor = Sensor.all_objects.get(code="NRB-KIL-FIT-IN")
        times = sorted(Reading.objects.filter(sensor=sensor).values_list("recorded_at", flat=True))
        # Tenant B's day is UTC's: from yesterday 00:00 to the last 5-minute mark.
        assert times[0] == datetime(2026, 3, 9, tzinfo=UTC)
        assert times[-1] == datetime(2026, 3, 10, 9, 5, tzinfo=UTC)
        assert result.readings == len(times) * Sensor.all_objects.count()
        # Yesterday's water balance: the healthy background leakage, below the alarm.
        balances = ZoneWaterBalance.objects.filter(day=date(2026, 3, 9))
        if hasattr(detection, "water_balance_compute"):
            assert balances.filter(zone__code__startswith="NRB-").count() == len(demo.DMAS)
            for balance in balances.filter(zone__kind="district"):
                assert 5 < balance.loss_pct < 11

    later = demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW + timedelta(minutes=20))

    assert later.readings == 4 * result.sensors


def test_backfill_instants_resume_after_the_latest_reading():
    start = datetime(2026, 3, 9, tzinfo=UTC)
    now = datetime(2026, 3, 9, 0, 17, tzinfo=UTC)

    assert [at.minute for at in demo.backfill_instants(after=None, start=start, now=now)] == [
        0,
        5,
        10,
        15,
    ]
    latest = datetime(2026, 3, 9, 0, 10, tzinfo=UTC)
    assert demo.backfill_instants(after=latest, start=start, now=now) == [
        datetime(2026, 3, 9, 0, 15, tzinfo=UTC)
    ]
    assert demo.backfill_instants(after=now, start=start, now=now) == []


def test_the_command_wraps_the_seed_and_refuses_an_unknown_schema():
    call_command("seed_pipeline_demo", schema=TENANT_B)
    with in_tenant(TENANT_B):
        from apps.pipeline.models import Zone

        assert Zone.objects.filter(code="NRB-KIL").exists()
    with pytest.raises(CommandError):
        call_command("seed_pipeline_demo", schema="nope")


def test_the_demo_leak_raises_alarms_opens_an_incident_for_the_nearest_team_and_escalates():
    """The done-when of the demo, in-process: the feed's readings (straight into the
    table, no HTTP), detection and the escalation scan at chosen instants."""
    from apps.accounts.models import User
    from apps.pipeline.models import Alarm, DispatchOffer, Incident, IncidentEscalation, Sensor
    from apps.pipeline.services import detection, incidents

    if not hasattr(incidents, "escalation_scan"):
        pytest.skip("the incidents part (escalation_scan) is not there yet")
    demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW)
    leak = demo.Leak(zone_code="NRB-KIL", starts_at=NOW + timedelta(minutes=2))
    end = NOW + timedelta(minutes=10)

    with in_tenant(TENANT_B):
        sensors = [(s.pk, demo._feed_sensor(s)) for s in Sensor.all_objects.select_related("zone")]  # noqa: SLF001
        instants = [NOW + timedelta(seconds=15 * step) for step in range(1, 41)]
        demo.readings_copy(
            (pk, at, demo.raw_value(spec, at, time_zone="UTC", leak=leak))
            for pk, spec in sensors
            for at in instants
        )
        detection.detection_run(now=end)

        alarms = Alarm.objects.filter(status="active")
        assert set(alarms.values_list("kind", "zone__code")) == {
            ("pressure_drop", "NRB-KIL"),
            ("flow_imbalance", "NRB-KIL"),
        }
        incident = Incident.objects.get()
        assert incident.zone.code == "NRB-KIL"
        assert incident.severity == "high"
        offer = DispatchOffer.objects.get(incident=incident, status="offered")
        assert offer.team.code == "T01"  # the Kilimani crew, based in the DMA

        incidents.escalation_scan(now=incident.next_escalation_at + timedelta(seconds=1))

        step = IncidentEscalation.objects.get(incident=incident)
        assert step.level == 1
        dispatcher = User.objects.get(username="dispatcher")
        assert step.recipient_ids == [str(dispatcher.pk)]


def test_the_feed_leaks_where_no_incident_is_open_yet():
    from apps.pipeline.models import Incident, Zone

    demo.pipeline_demo_seed(schema_name=TENANT_B, now=NOW)
    codes = [dma.code for dma in demo.DMAS]

    with in_tenant(TENANT_B):
        assert demo.leak_zone_choose(codes) == "NRB-KIL"
        assert demo.leak_zone_choose(codes, "NRB-EST") == "NRB-EST"
        Incident.objects.create(
            number="INC-DEMO-1",
            title="Leak left open by an earlier run",
            severity="high",
            source="alarm",
            zone=Zone.objects.get(code="NRB-KIL"),
            latitude=-1.29,
            longitude=36.78,
        )
        assert demo.leak_zone_choose(codes) == "NRB-CBD"
        assert demo.leak_zone_choose(["ELSEWHERE"]) == "ELSEWHERE"
        assert demo.leak_zone_choose([]) is None
