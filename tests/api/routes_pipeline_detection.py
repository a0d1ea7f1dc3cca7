"""Cross-tenant specs for the detection routes of /api/v1/pipeline/ (merged into
tests.api.routes): rules, alarms and water balances.

Rows are made with the ORM in B's schema. Each maker's marker is a value of the row that
any representation of it shows (the rule's name, the alarm's message, the balance's zone
code).
"""

from __future__ import annotations

import uuid
from datetime import date

from tests.api.routes import Spec


def _marker(kind: str) -> str:
    return f"xt-{kind}-{uuid.uuid4().hex[:8]}"


def _zone(marker: str):
    from apps.pipeline.tests.factories import zone_make

    return zone_make(code=marker[-32:])


def _sensor(marker: str):
    from apps.pipeline.tests.factories import asset_make, sensor_make

    return sensor_make(asset=asset_make(zone=_zone(marker)))


def _make_rule() -> tuple[dict, str]:
    from apps.pipeline.models import DetectionRule

    marker = _marker("rule")
    rule = DetectionRule.objects.create(
        name=marker, kind="threshold_high", sensor=_sensor(marker), threshold=80.0
    )
    return {"rule_id": rule.pk}, marker


def _rule_intact(marker: str) -> bool:
    from apps.pipeline.models import DetectionRule

    return DetectionRule.objects.filter(
        name=marker, kind="threshold_high", threshold=80.0, is_active=True
    ).exists()


def _make_alarm() -> tuple[dict, str]:
    from apps.pipeline.models import Alarm

    marker = _marker("alarm")
    sensor = _sensor(marker)
    alarm = Alarm.objects.create(
        kind="threshold_high",
        severity="medium",
        sensor=sensor,
        zone_id=sensor.zone_id,
        message=marker,
        value=90.0,
    )
    return {"alarm_id": alarm.pk}, marker


def _alarm_intact(marker: str) -> bool:
    from apps.pipeline.models import Alarm

    return Alarm.objects.filter(
        message=marker, status="active", cleared_at=None, detection_count=1
    ).exists()


def _make_balance() -> tuple[dict, str]:
    from apps.pipeline.models import ZoneWaterBalance

    marker = _marker("balance")
    ZoneWaterBalance.objects.create(
        zone=_zone(marker), day=date(2031, 1, 15), inflow_m3=100.0, loss_m3=20.0, loss_pct=20.0
    )
    return {}, marker[-32:]


def _balance_intact(marker: str) -> bool:
    from apps.pipeline.models import ZoneWaterBalance

    return ZoneWaterBalance.objects.filter(zone__code=marker, loss_m3=20.0).exists()


_RULE = {"make": _make_rule, "intact": _rule_intact}
_ALARM = {"make": _make_alarm, "intact": _alarm_intact}

ROUTES: dict[str, Spec] = {
    "api/v1/pipeline/rules/": Spec(**_RULE),
    "api/v1/pipeline/rules/<uuid:rule_id>/": Spec(
        write_body={"name": "taken over", "threshold": 1.0}, **_RULE
    ),
    "api/v1/pipeline/alarms/": Spec(**_ALARM),
    "api/v1/pipeline/alarms/<uuid:alarm_id>/": Spec(**_ALARM),
    "api/v1/pipeline/alarms/<uuid:alarm_id>/clear/": Spec(**_ALARM),
    "api/v1/pipeline/water-balance/": Spec(make=_make_balance, intact=_balance_intact),
}
