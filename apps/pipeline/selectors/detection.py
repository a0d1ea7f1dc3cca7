"""Reads of detection: rules, alarms and water balances, each under the zone row scope
(apps.pipeline.selectors.network). A row of a zone the actor may not see is not found."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.pipeline.models import Alarm, DetectionRule, ZoneWaterBalance
from apps.pipeline.selectors.network import zone_ids_visible, zone_scope_filter


def detection_rule_list(*, actor: Actor) -> QuerySet[DetectionRule]:
    """Rules of a visible zone, or of a sensor in one."""
    require_perm(actor, "pipeline.view_detectionrule")
    rules = DetectionRule.objects.select_related("sensor", "zone")
    visible = zone_ids_visible(actor=actor)
    if visible is None:
        return rules
    visible_ids = list(visible)
    return rules.filter(Q(zone_id__in=visible_ids) | Q(sensor__zone_id__in=visible_ids))


def detection_rule_get(*, actor: Actor, rule_id: object) -> DetectionRule:
    rule = detection_rule_list(actor=actor).filter(pk=rule_id).first()
    if rule is None:
        raise NotFoundError()
    return rule


def alarm_list(*, actor: Actor) -> QuerySet[Alarm]:
    require_perm(actor, "pipeline.view_alarm")
    return zone_scope_filter(
        Alarm.objects.select_related("zone", "sensor"), actor=actor, field="zone"
    )


def alarm_get(*, actor: Actor, alarm_id: object) -> Alarm:
    alarm = alarm_list(actor=actor).filter(pk=alarm_id).first()
    if alarm is None:
        raise NotFoundError()
    return alarm


def alarm_active_count_by_zone(*, actor: Actor) -> dict[str, int]:
    """Active alarms per visible zone id (for boards)."""
    from django.db.models import Count

    rows = (
        alarm_list(actor=actor)
        .filter(status=Alarm.Status.ACTIVE)
        .order_by()
        .values("zone_id")
        .annotate(count=Count("id"))
    )
    return {str(row["zone_id"]): row["count"] for row in rows}


def water_balance_list(
    *,
    actor: Actor,
    zone_id: object | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> QuerySet[ZoneWaterBalance]:
    """Balances of visible zones, optionally of one zone and a day range (inclusive).
    What the water-loss report reads."""
    require_perm(actor, "pipeline.view_zonewaterbalance")
    balances = zone_scope_filter(
        ZoneWaterBalance.objects.select_related("zone"), actor=actor, field="zone"
    )
    if zone_id is not None:
        balances = balances.filter(zone_id=zone_id)
    if day_from is not None:
        balances = balances.filter(day__gte=day_from)
    if day_to is not None:
        balances = balances.filter(day__lte=day_to)
    return balances
