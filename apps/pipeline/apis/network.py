"""Network API under /api/v1/pipeline/: zones, assets, sensors, devices, field teams.

Zone-scoped: a user sees (and, with the model permissions, changes) only the records of
the zones granted to them and the zones below those; ``pipeline.access_all_zones`` sees
all. A record outside the caller's zones is a 404. Field teams are not zone-scoped.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.fields import (
    StrictBooleanField,
    StrictDecimalField,
    StrictFloatField,
    StrictIntegerField,
)
from apps.core.api.filters import (
    StrictBooleanFilter,
    StrictCharFilter,
    StrictChoiceFilter,
    StrictUUIDFilter,
)
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.pipeline.models import Asset, Device, FieldTeam, Sensor, TeamMember, Zone
from apps.pipeline.selectors import network as selectors
from apps.pipeline.services import network as services

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)
NAME_MAX = 120
# Finite limits keep generated and hostile input inside what a double column stores and
# compares exactly enough; no physical quantity we measure comes near them.
MEASURE_LIMIT = 1e12


# DRF's number and boolean fields also take "1.5", "12", "yes", 0 and 1, which the
# OpenAPI document (type number / integer / boolean) does not allow: these take JSON
# values of the documented type only.


def _latitude(**kwargs: Any) -> serializers.FloatField:
    return StrictFloatField(min_value=-90, max_value=90, **kwargs)


def _longitude(**kwargs: Any) -> serializers.FloatField:
    return StrictFloatField(min_value=-180, max_value=180, **kwargs)


def _measure(**kwargs: Any) -> serializers.FloatField:
    return StrictFloatField(min_value=-MEASURE_LIMIT, max_value=MEASURE_LIMIT, **kwargs)


def _code(max_length: int, **kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        services.CODE_PATTERN.pattern,
        max_length=max_length,
        help_text="Letters, digits, '.', '_' or '-'; unique among all records of its kind.",
        **kwargs,
    )


class _BBoxField(forms.CharField):
    """``min_lon,min_lat,max_lon,max_lat`` (GeoJSON order) → a tuple of four floats."""

    def clean(self, value: object) -> object:
        if value is None:  # the parameter is absent: no filter
            return None
        parts = str(value).split(",")
        try:
            numbers = tuple(float(part) for part in parts)
        except ValueError as error:
            raise forms.ValidationError(self._message, code="invalid") from error
        if len(numbers) != 4:
            raise forms.ValidationError(self._message, code="invalid")
        min_lon, min_lat, max_lon, max_lat = numbers
        # Chained comparisons are false for nan, so nan is refused too.
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise forms.ValidationError(self._message, code="invalid")
        return numbers

    _message = (
        "min_lon,min_lat,max_lon,max_lat with -180 <= min_lon <= max_lon <= 180 and "
        "-90 <= min_lat <= max_lat <= 90."
    )


@extend_schema_field(
    {"type": "string", "example": "4.80,52.30,4.95,52.45", "pattern": r"^[^,]+(,[^,]+){3}$"}
)
class BBoxFilter(filters.CharFilter):
    field_class = _BBoxField

    def filter(self, queryset: QuerySet, value: Any) -> QuerySet:
        if not value:
            return queryset
        min_lon, min_lat, max_lon, max_lat = value
        return queryset.filter(
            latitude__gte=min_lat,
            latitude__lte=max_lat,
            longitude__gte=min_lon,
            longitude__lte=max_lon,
        )


def _zone_subtree(field: str):
    def method(queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return selectors.zone_subtree_filter(queryset, zone_id=value, field=field)

    return method


# --- zones ---------------------------------------------------------------------------------


class ZoneOutputSerializer(serializers.ModelSerializer):
    parent = serializers.UUIDField(source="parent_id", allow_null=True)
    path = serializers.ListField(
        child=serializers.CharField(),
        help_text="Codes from the top-level zone down to this one.",
    )
    depth = serializers.SerializerMethodField(help_text="0 for a top-level zone.")
    loss_alarm_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False
    )

    class Meta:
        model = Zone
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "parent",
            "path",
            "depth",
            "loss_alarm_pct",
            "created_at",
            "updated_at",
        )

    def get_depth(self, zone: Zone) -> int:
        return max(len(zone.path or ()) - 1, 0)


class ZoneInputSerializer(StrictSerializer):
    code = _code(32)
    name = serializers.CharField(max_length=NAME_MAX)
    kind = serializers.ChoiceField(choices=Zone.Kind.choices, required=False)
    parent = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The zone above; null for a top-level network (needs access to every zone).",
    )
    loss_alarm_pct = StrictDecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        coerce_to_string=False,
        help_text="Daily loss above this share of inflow raises a water-loss alarm.",
    )


class ZoneFilter(filters.FilterSet):
    parent = StrictUUIDFilter(field_name="parent_id")
    kind = StrictChoiceFilter(choices=Zone.Kind.choices)
    top_level = StrictBooleanFilter(field_name="parent", lookup_expr="isnull")

    class Meta:
        model = Zone
        fields = ("parent", "kind", "top_level")


class ZoneListCreateApi(TenantApi):
    filterset_class = ZoneFilter
    ordering_fields = ("created_at", "code")

    def get_queryset(self) -> QuerySet[Zone]:
        return Zone.objects.none()

    @extend_schema(responses={200: ZoneOutputSerializer(many=True), 400: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        """Zones the caller may see (granted ones and those below), with ``parent``,
        ``path`` and ``depth`` to draw the tree."""
        return self.list_response(selectors.zone_list(actor=self.actor), ZoneOutputSerializer)

    @extend_schema(
        request=ZoneInputSerializer,
        responses={201: ZoneOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = ZoneInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        parent_id = data.pop("parent", None)
        zone = services.zone_create(actor=self.actor, parent_id=parent_id, **data)
        return Response(ZoneOutputSerializer(zone).data, status=status.HTTP_201_CREATED)


class ZoneDetailApi(TenantApi):
    @extend_schema(responses={200: ZoneOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, zone_id: str) -> Response:
        zone = selectors.zone_get(actor=self.actor, zone_id=zone_id)
        return Response(ZoneOutputSerializer(zone).data)

    @extend_schema(
        request=ZoneInputSerializer(partial=True),
        responses={200: ZoneOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, zone_id: str) -> Response:
        """Moving a zone under itself or one of its sub-zones is a 409
        ``pipeline.zone_cycle``."""
        zone = selectors.zone_get(actor=self.actor, zone_id=zone_id)
        payload = ZoneInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        zone = services.zone_update(actor=self.actor, zone=zone, data=payload.validated_data)
        return Response(ZoneOutputSerializer(zone).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, zone_id: str) -> Response:
        """Refused (409 ``pipeline.in_use``) while the zone has sub-zones or assets."""
        zone = selectors.zone_get(actor=self.actor, zone_id=zone_id)
        services.zone_delete(actor=self.actor, zone=zone)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- assets --------------------------------------------------------------------------------


class AssetOutputSerializer(serializers.ModelSerializer):
    zone = serializers.UUIDField(source="zone_id")
    attributes = serializers.DictField()

    class Meta:
        model = Asset
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "status",
            "zone",
            "latitude",
            "longitude",
            "installed_on",
            "attributes",
            "created_at",
            "updated_at",
        )


class AssetInputSerializer(StrictSerializer):
    code = _code(32)
    name = serializers.CharField(max_length=NAME_MAX)
    kind = serializers.ChoiceField(choices=Asset.Kind.choices)
    status = serializers.ChoiceField(choices=Asset.Status.choices, required=False)
    zone = serializers.UUIDField()
    latitude = _latitude()
    longitude = _longitude()
    installed_on = serializers.DateField(required=False, allow_null=True)
    attributes = serializers.DictField(
        required=False,
        help_text="Free details (diameter, material, rating...): shown, never computed on.",
    )

    def validate_attributes(self, value: dict) -> dict:
        if len(str(value)) > 10_000:
            raise serializers.ValidationError("At most 10,000 characters.")
        return value


class AssetFilter(filters.FilterSet):
    zone = StrictUUIDFilter(
        method=_zone_subtree("zone"), help_text="This zone and the zones below it."
    )
    kind = StrictChoiceFilter(choices=Asset.Kind.choices)
    status = StrictChoiceFilter(choices=Asset.Status.choices)
    search = StrictCharFilter(method="filter_search", help_text="Part of the code or name.")
    bbox = BBoxFilter(help_text="min_lon,min_lat,max_lon,max_lat: assets inside the box.")

    class Meta:
        model = Asset
        fields = ("zone", "kind", "status", "search", "bbox")

    def filter_search(self, queryset: QuerySet[Asset], name: str, value: str) -> QuerySet[Asset]:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class AssetListCreateApi(TenantApi):
    filterset_class = AssetFilter
    ordering_fields = ("created_at", "code")

    def get_queryset(self) -> QuerySet[Asset]:
        return Asset.objects.none()

    @extend_schema(responses={200: AssetOutputSerializer(many=True), 400: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(selectors.asset_list(actor=self.actor), AssetOutputSerializer)

    @extend_schema(
        request=AssetInputSerializer,
        responses={201: AssetOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """A zone the caller cannot see is refused like an unknown one (400, ``zone``)."""
        payload = AssetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        asset = services.asset_create(actor=self.actor, zone_id=data.pop("zone"), **data)
        return Response(AssetOutputSerializer(asset).data, status=status.HTTP_201_CREATED)


class AssetDetailApi(TenantApi):
    @extend_schema(responses={200: AssetOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, asset_id: str) -> Response:
        asset = selectors.asset_get(actor=self.actor, asset_id=asset_id)
        return Response(AssetOutputSerializer(asset).data)

    @extend_schema(
        request=AssetInputSerializer(partial=True),
        responses={200: AssetOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, asset_id: str) -> Response:
        """A new ``zone`` moves the asset's sensors with it."""
        asset = selectors.asset_get(actor=self.actor, asset_id=asset_id)
        payload = AssetInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        asset = services.asset_update(actor=self.actor, asset=asset, data=payload.validated_data)
        return Response(AssetOutputSerializer(asset).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, asset_id: str) -> Response:
        """Soft delete; refused (409 ``pipeline.in_use``) while sensors or devices sit on
        the asset."""
        asset = selectors.asset_get(actor=self.actor, asset_id=asset_id)
        services.asset_delete(actor=self.actor, asset=asset)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- devices -------------------------------------------------------------------------------


class DeviceOutputSerializer(serializers.ModelSerializer):
    asset = serializers.UUIDField(source="asset_id", allow_null=True)
    zone = serializers.SerializerMethodField(help_text="The zone of its asset, if any.")

    class Meta:
        model = Device
        fields = ("id", "code", "name", "asset", "zone", "created_at", "updated_at")

    def get_zone(self, device: Device) -> str | None:
        return str(device.asset.zone_id) if device.asset_id else None


class DeviceInputSerializer(StrictSerializer):
    code = _code(64)
    name = serializers.CharField(max_length=NAME_MAX)
    asset = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The asset it sits on; none needs access to every zone.",
    )


class DeviceFilter(filters.FilterSet):
    asset = StrictUUIDFilter(field_name="asset_id")
    zone = StrictUUIDFilter(
        method=_zone_subtree("asset__zone"), help_text="This zone and the zones below it."
    )

    class Meta:
        model = Device
        fields = ("asset", "zone")


class DeviceListCreateApi(TenantApi):
    filterset_class = DeviceFilter
    ordering_fields = ("created_at", "code")

    def get_queryset(self) -> QuerySet[Device]:
        return Device.objects.none()

    @extend_schema(responses={200: DeviceOutputSerializer(many=True), 400: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        """Devices on assets of the caller's zones (unattached ones only for
        access_all_zones)."""
        return self.list_response(selectors.device_list(actor=self.actor), DeviceOutputSerializer)

    @extend_schema(
        request=DeviceInputSerializer,
        responses={201: DeviceOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = DeviceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        device = services.device_create(actor=self.actor, asset_id=data.pop("asset", None), **data)
        return Response(DeviceOutputSerializer(device).data, status=status.HTTP_201_CREATED)


class DeviceDetailApi(TenantApi):
    @extend_schema(responses={200: DeviceOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, device_id: str) -> Response:
        device = selectors.device_get(actor=self.actor, device_id=device_id)
        return Response(DeviceOutputSerializer(device).data)

    @extend_schema(
        request=DeviceInputSerializer(partial=True),
        responses={200: DeviceOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, device_id: str) -> Response:
        device = selectors.device_get(actor=self.actor, device_id=device_id)
        payload = DeviceInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        device = services.device_update(
            actor=self.actor, device=device, data=payload.validated_data
        )
        return Response(DeviceOutputSerializer(device).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, device_id: str) -> Response:
        """Soft delete; refused (409 ``pipeline.in_use``) while sensors are wired to it."""
        device = selectors.device_get(actor=self.actor, device_id=device_id)
        services.device_delete(actor=self.actor, device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- sensors -------------------------------------------------------------------------------


class SensorOutputSerializer(serializers.ModelSerializer):
    asset = serializers.UUIDField(source="asset_id")
    zone = serializers.UUIDField(source="zone_id", help_text="Always the asset's zone.")
    device = serializers.UUIDField(source="device_id", allow_null=True)

    class Meta:
        model = Sensor
        fields = (
            "id",
            "code",
            "asset",
            "zone",
            "device",
            "kind",
            "unit",
            "valid_min",
            "valid_max",
            "calibration_factor",
            "calibration_offset",
            "calibrated_on",
            "reference_value",
            "expected_interval_seconds",
            "balance_role",
            "is_active",
            "created_at",
            "updated_at",
        )


class SensorInputSerializer(StrictSerializer):
    code = _code(64)
    asset = serializers.UUIDField(help_text="The sensor takes this asset's zone.")
    device = serializers.UUIDField(
        required=False, allow_null=True, help_text="The logger it reports through."
    )
    kind = serializers.ChoiceField(choices=Sensor.Kind.choices)
    unit = serializers.CharField(max_length=16, help_text='e.g. "m3/h", "bar", "m".')
    valid_min = _measure(help_text="Smallest physically possible reading.")
    valid_max = _measure(help_text="Largest physically possible reading; above valid_min.")
    calibration_factor = _measure(
        required=False, help_text="true value = raw * factor + offset; not 0."
    )
    calibration_offset = _measure(required=False)
    calibrated_on = serializers.DateField(required=False, allow_null=True)
    reference_value = _measure(required=False, allow_null=True)
    expected_interval_seconds = StrictIntegerField(
        min_value=1, max_value=7 * 24 * 3600, required=False
    )
    balance_role = serializers.ChoiceField(choices=Sensor.BalanceRole.choices, required=False)
    is_active = StrictBooleanField(required=False)


class SensorFilter(filters.FilterSet):
    zone = StrictUUIDFilter(
        method=_zone_subtree("zone"), help_text="This zone and the zones below it."
    )
    asset = StrictUUIDFilter(field_name="asset_id")
    device = StrictUUIDFilter(field_name="device_id")
    kind = StrictChoiceFilter(choices=Sensor.Kind.choices)
    balance_role = StrictChoiceFilter(choices=Sensor.BalanceRole.choices)
    is_active = StrictBooleanFilter(field_name="is_active")

    class Meta:
        model = Sensor
        fields = ("zone", "asset", "device", "kind", "balance_role", "is_active")


class SensorListCreateApi(TenantApi):
    filterset_class = SensorFilter
    ordering_fields = ("created_at", "code")

    def get_queryset(self) -> QuerySet[Sensor]:
        return Sensor.objects.none()

    @extend_schema(responses={200: SensorOutputSerializer(many=True), 400: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(selectors.sensor_list(actor=self.actor), SensorOutputSerializer)

    @extend_schema(
        request=SensorInputSerializer,
        responses={201: SensorOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """``valid_min`` must lie below ``valid_max`` and ``calibration_factor`` cannot
        be 0 (400 naming the field)."""
        payload = SensorInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        sensor = services.sensor_create(
            actor=self.actor,
            asset_id=data.pop("asset"),
            device_id=data.pop("device", None),
            **data,
        )
        return Response(SensorOutputSerializer(sensor).data, status=status.HTTP_201_CREATED)


class SensorDetailApi(TenantApi):
    @extend_schema(responses={200: SensorOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, sensor_id: str) -> Response:
        sensor = selectors.sensor_get(actor=self.actor, sensor_id=sensor_id)
        return Response(SensorOutputSerializer(sensor).data)

    @extend_schema(
        request=SensorInputSerializer(partial=True),
        responses={200: SensorOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, sensor_id: str) -> Response:
        sensor = selectors.sensor_get(actor=self.actor, sensor_id=sensor_id)
        payload = SensorInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        sensor = services.sensor_update(
            actor=self.actor, sensor=sensor, data=payload.validated_data
        )
        return Response(SensorOutputSerializer(sensor).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, sensor_id: str) -> Response:
        """Soft delete: the sensor stops accepting readings; its history stays."""
        sensor = selectors.sensor_get(actor=self.actor, sensor_id=sensor_id)
        services.sensor_delete(actor=self.actor, sensor=sensor)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- field teams ---------------------------------------------------------------------------


class TeamMemberOutputSerializer(serializers.ModelSerializer):
    user = serializers.UUIDField(source="user_id")
    username = serializers.CharField(source="user.username")

    class Meta:
        model = TeamMember
        fields = ("user", "username", "role", "created_at")


class TeamOutputSerializer(serializers.ModelSerializer):
    skills = serializers.ListField(child=serializers.CharField())
    members = TeamMemberOutputSerializer(source="memberships", many=True)

    class Meta:
        model = FieldTeam
        fields = (
            "id",
            "code",
            "name",
            "skills",
            "base_latitude",
            "base_longitude",
            "last_latitude",
            "last_longitude",
            "last_seen_at",
            "is_available",
            "members",
            "created_at",
            "updated_at",
        )


class TeamInputSerializer(StrictSerializer):
    code = _code(32)
    name = serializers.CharField(max_length=NAME_MAX)
    skills = serializers.ListField(
        child=serializers.CharField(max_length=services.SKILL_MAX_LENGTH),
        max_length=services.SKILLS_MAX,
        required=False,
        help_text="Stored trimmed and lower-case, without duplicates.",
    )
    base_latitude = _latitude()
    base_longitude = _longitude()
    is_available = StrictBooleanField(required=False)


class TeamFilter(filters.FilterSet):
    skill = StrictCharFilter(method="filter_skill", help_text="Teams having this skill.")
    available = StrictBooleanFilter(field_name="is_available")

    class Meta:
        model = FieldTeam
        fields = ("skill", "available")

    def filter_skill(
        self, queryset: QuerySet[FieldTeam], name: str, value: str
    ) -> QuerySet[FieldTeam]:
        try:
            skill = services.skill_normalize(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(skills__contains=[skill])


def _team_fetch(team: FieldTeam) -> FieldTeam:
    # The output lists members: read them fresh after a write.
    return (
        FieldTeam.objects.prefetch_related("memberships__user").filter(pk=team.pk).first() or team
    )


class TeamListCreateApi(TenantApi):
    filterset_class = TeamFilter
    ordering_fields = ("created_at", "code")

    def get_queryset(self) -> QuerySet[FieldTeam]:
        return FieldTeam.objects.none()

    @extend_schema(responses={200: TeamOutputSerializer(many=True), 400: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        """Every team (teams are not zone-scoped: dispatch sends them across zones)."""
        return self.list_response(selectors.team_list(actor=self.actor), TeamOutputSerializer)

    @extend_schema(
        request=TeamInputSerializer,
        responses={201: TeamOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = TeamInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        team = services.team_create(actor=self.actor, **payload.validated_data)
        return Response(TeamOutputSerializer(_team_fetch(team)).data, status=201)


class TeamDetailApi(TenantApi):
    @extend_schema(responses={200: TeamOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, team_id: str) -> Response:
        team = selectors.team_get(actor=self.actor, team_id=team_id)
        return Response(TeamOutputSerializer(team).data)

    @extend_schema(
        request=TeamInputSerializer(partial=True),
        responses={200: TeamOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, team_id: str) -> Response:
        team = selectors.team_get(actor=self.actor, team_id=team_id)
        payload = TeamInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        team = services.team_update(actor=self.actor, team=team, data=payload.validated_data)
        return Response(TeamOutputSerializer(_team_fetch(team)).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, team_id: str) -> Response:
        """Soft delete; refused (409 ``pipeline.in_use``) while an unresolved incident is
        assigned to the team or an offer to it is live."""
        team = selectors.team_get(actor=self.actor, team_id=team_id)
        services.team_delete(actor=self.actor, team=team)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamMemberInputSerializer(StrictSerializer):
    user = serializers.UUIDField()
    role = serializers.ChoiceField(choices=TeamMember.Role.choices, required=False)


class TeamMemberListCreateApi(TenantApi):
    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses={200: TeamMemberOutputSerializer(many=True), 403: ERROR, 404: ERROR})
    def get(self, request: Request, team_id: str) -> Response:
        team = selectors.team_get(actor=self.actor, team_id=team_id)
        members = selectors.team_member_list(actor=self.actor, team=team)
        return Response(TeamMemberOutputSerializer(members, many=True).data)

    @extend_schema(
        request=TeamMemberInputSerializer,
        responses={200: TeamMemberOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, team_id: str) -> Response:
        """Adds the user to the team, or sets the role of a member (idempotent)."""
        team = selectors.team_get(actor=self.actor, team_id=team_id)
        payload = TeamMemberInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        membership = services.team_member_add(
            actor=self.actor,
            team=team,
            user_id=data["user"],
            role=data.get("role", TeamMember.Role.MEMBER),
        )
        return Response(TeamMemberOutputSerializer(membership).data)


class TeamMemberDetailApi(TenantApi):
    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, team_id: str, user_id: str) -> Response:
        team = selectors.team_get(actor=self.actor, team_id=team_id)
        services.team_member_remove(actor=self.actor, team=team, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamPositionInputSerializer(StrictSerializer):
    latitude = _latitude()
    longitude = _longitude()


class TeamPositionApi(TenantApi):
    @extend_schema(
        request=TeamPositionInputSerializer,
        responses={200: TeamOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, team_id: str) -> Response:
        """Where the team is now; dispatch ranks teams from it. For the team's members
        and for users who manage teams or answer dispatch for any team."""
        team = selectors.team_get_for_member(actor=self.actor, team_id=team_id)
        payload = TeamPositionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        team = services.team_position_report(actor=self.actor, team=team, **payload.validated_data)
        return Response(TeamOutputSerializer(_team_fetch(team)).data)
