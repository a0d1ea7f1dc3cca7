"""Pipeline detection API: rules, alarms (list, detail, clear) and the zones' daily water
balances. Every read goes through the zone row scope (apps.pipeline.selectors.detection):
a row of a zone the caller may not see answers 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.fields import StrictBooleanField, StrictFloatField, StrictIntegerField
from apps.core.api.filters import StrictChoiceFilter, StrictDateFilter, StrictUUIDFilter
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.pipeline.models import Alarm, AlarmKind, DetectionRule, Severity, ZoneWaterBalance
from apps.pipeline.selectors import detection as selectors
from apps.pipeline.services import detection as services

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)
RULE_KIND_CHOICES = sorted(services.RULE_KINDS)


# --- rules -------------------------------------------------------------------------------


class DetectionRuleOutputSerializer(serializers.ModelSerializer):
    sensor = serializers.UUIDField(source="sensor_id", allow_null=True)
    zone = serializers.UUIDField(source="zone_id", allow_null=True)

    class Meta:
        model = DetectionRule
        fields = (
            "id",
            "name",
            "kind",
            "sensor",
            "zone",
            "threshold",
            "window_minutes",
            "severity",
            "opens_incident",
            "required_skill",
            "is_active",
            "created_at",
            "updated_at",
        )


class DetectionRuleInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=RULE_KIND_CHOICES)
    sensor = serializers.UUIDField(
        required=False, allow_null=True, help_text="For a sensor kind; exclusive with zone."
    )
    zone = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="For a zone kind (flow_imbalance, night_flow); exclusive with sensor.",
    )
    threshold = StrictFloatField(
        required=False,
        allow_null=True,
        help_text=(
            "By kind: the limit (threshold_*), the largest change per minute"
            " (rate_of_change), the smallest spread (flat_line), percent (pressure_drop,"
            " flow_imbalance), m3/h (night_flow); unused for missing_data."
        ),
    )
    window_minutes = StrictIntegerField(
        min_value=services.WINDOW_MIN, max_value=services.WINDOW_MAX, required=False
    )
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    opens_incident = StrictBooleanField(required=False)
    required_skill = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="The skill a team needs to be sent to this rule's incidents; empty: any.",
    )
    is_active = StrictBooleanField(required=False)


class DetectionRuleFilter(filters.FilterSet):
    zone = StrictUUIDFilter(field_name="zone_id")
    sensor = StrictUUIDFilter(field_name="sensor_id")
    kind = StrictChoiceFilter(choices=[(kind, kind) for kind in RULE_KIND_CHOICES])

    class Meta:
        model = DetectionRule
        fields = ("zone", "sensor", "kind")


class DetectionRuleListCreateApi(TenantApi):
    filterset_class = DetectionRuleFilter
    ordering_fields = ("created_at", "name")

    def get_queryset(self) -> QuerySet[DetectionRule]:
        return DetectionRule.objects.none()

    @extend_schema(responses={200: DetectionRuleOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.detection_rule_list(actor=self.actor), DetectionRuleOutputSerializer
        )

    @extend_schema(
        request=DetectionRuleInputSerializer,
        responses={201: DetectionRuleOutputSerializer, 400: ERROR, 403: ERROR},
    )
    def post(self, request: Request) -> Response:
        """Exactly one of sensor (sensor kinds) or zone (zone kinds); a threshold except
        for missing_data. Invalid fields are named in a 400; nothing is stored."""
        payload = DetectionRuleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rule = services.detection_rule_create(actor=self.actor, data=payload.validated_data)
        return Response(DetectionRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class DetectionRuleDetailApi(TenantApi):
    @extend_schema(responses={200: DetectionRuleOutputSerializer, 404: ERROR})
    def get(self, request: Request, rule_id: str) -> Response:
        rule = selectors.detection_rule_get(actor=self.actor, rule_id=rule_id)
        return Response(DetectionRuleOutputSerializer(rule).data)

    @extend_schema(
        request=DetectionRuleInputSerializer(partial=True),
        responses={200: DetectionRuleOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def patch(self, request: Request, rule_id: str) -> Response:
        """The changed rule is checked whole, as on create."""
        rule = selectors.detection_rule_get(actor=self.actor, rule_id=rule_id)
        payload = DetectionRuleInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        rule = services.detection_rule_update(
            actor=self.actor, rule=rule, data=payload.validated_data
        )
        return Response(DetectionRuleOutputSerializer(rule).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, rule_id: str) -> Response:
        """Its alarms stay; the next detection pass clears the active ones."""
        rule = selectors.detection_rule_get(actor=self.actor, rule_id=rule_id)
        services.detection_rule_delete(actor=self.actor, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- alarms ------------------------------------------------------------------------------


class AlarmOutputSerializer(serializers.ModelSerializer):
    sensor = serializers.UUIDField(source="sensor_id", allow_null=True)
    sensor_code = serializers.CharField(source="sensor.code", allow_null=True, default=None)
    zone = serializers.UUIDField(source="zone_id")
    zone_code = serializers.CharField(source="zone.code")
    rule = serializers.UUIDField(source="rule_id", allow_null=True)
    incident = serializers.UUIDField(source="incident_id", allow_null=True)

    class Meta:
        model = Alarm
        fields = (
            "id",
            "kind",
            "status",
            "severity",
            "sensor",
            "sensor_code",
            "zone",
            "zone_code",
            "rule",
            "message",
            "value",
            "details",
            "first_detected_at",
            "last_detected_at",
            "detection_count",
            "cleared_at",
            "incident",
            "created_at",
            "updated_at",
        )


class AlarmFilter(filters.FilterSet):
    status = StrictChoiceFilter(choices=Alarm.Status.choices)
    kind = StrictChoiceFilter(choices=AlarmKind.choices)
    zone = StrictUUIDFilter(field_name="zone_id")
    sensor = StrictUUIDFilter(field_name="sensor_id")

    class Meta:
        model = Alarm
        fields = ("status", "kind", "zone", "sensor")


class AlarmListApi(TenantApi):
    filterset_class = AlarmFilter
    ordering_fields = ("created_at", "last_detected_at")

    def get_queryset(self) -> QuerySet[Alarm]:
        return Alarm.objects.none()

    @extend_schema(responses={200: AlarmOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(selectors.alarm_list(actor=self.actor), AlarmOutputSerializer)


class AlarmDetailApi(TenantApi):
    @extend_schema(responses={200: AlarmOutputSerializer, 404: ERROR})
    def get(self, request: Request, alarm_id: str) -> Response:
        alarm = selectors.alarm_get(actor=self.actor, alarm_id=alarm_id)
        return Response(AlarmOutputSerializer(alarm).data)


class AlarmClearApi(TenantApi):
    @extend_schema(
        request=None,
        responses={200: AlarmOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, alarm_id: str) -> Response:
        """Needs ``pipeline.approve_incident_handling``. An alarm already cleared is a 409
        ``pipeline.alarm_not_active``. A condition that still holds raises a new alarm at
        the next detection pass."""
        alarm = selectors.alarm_get(actor=self.actor, alarm_id=alarm_id)
        alarm = services.alarm_clear(actor=self.actor, alarm=alarm)
        alarm = selectors.alarm_get(actor=self.actor, alarm_id=alarm.pk)
        return Response(AlarmOutputSerializer(alarm).data)


# --- water balance -----------------------------------------------------------------------


class ZoneWaterBalanceOutputSerializer(serializers.ModelSerializer):
    zone = serializers.UUIDField(source="zone_id")
    zone_code = serializers.CharField(source="zone.code")

    class Meta:
        model = ZoneWaterBalance
        fields = (
            "id",
            "zone",
            "zone_code",
            "day",
            "inflow_m3",
            "outflow_m3",
            "consumption_m3",
            "loss_m3",
            "loss_pct",
            "min_night_flow_m3h",
            "coverage",
            "computed_at",
            "created_at",
            "updated_at",
        )


class ZoneWaterBalanceFilter(filters.FilterSet):
    zone = StrictUUIDFilter(field_name="zone_id")
    day_from = StrictDateFilter(field_name="day", lookup_expr="gte")
    day_to = StrictDateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = ZoneWaterBalance
        fields = ("zone", "day_from", "day_to")


class ZoneWaterBalanceListApi(TenantApi):
    filterset_class = ZoneWaterBalanceFilter
    ordering_fields = ("created_at", "day")

    def get_queryset(self) -> QuerySet[ZoneWaterBalance]:
        return ZoneWaterBalance.objects.none()

    @extend_schema(responses={200: ZoneWaterBalanceOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        """One row per zone and tenant-local day: volumes in m3 (each flow sensor's mean
        rate times the day's hours), loss = inflow - outflow - consumption, loss_pct of
        inflow (null without inflow), minimum night flow (m3/h) and coverage."""
        return self.list_response(
            selectors.water_balance_list(actor=self.actor), ZoneWaterBalanceOutputSerializer
        )
