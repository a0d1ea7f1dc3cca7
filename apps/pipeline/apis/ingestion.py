"""Pipeline ingestion API: the devices' ingest route (device-key authentication, no JWT),
the admins' device-key routes, and a sensor's readings."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.fields import StrictIntegerField
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.pipeline.authentication import DeviceKeyAuthentication, IsDevice
from apps.pipeline.models import DeviceKey
from apps.pipeline.selectors import ingestion as selectors
from apps.pipeline.services import ingestion as services

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)


# --- ingest ---------------------------------------------------------------------------------


class IngestReadingSerializer(serializers.Serializer):
    sensor = serializers.CharField(help_text="The sensor's code in this tenant.")
    at = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset.")
    value = serializers.FloatField(help_text="The raw value, in the sensor's unit.")


class IngestInputSerializer(StrictSerializer):
    """Documents the body only: the service validates it (per reading, in one pass)."""

    batch_id = serializers.RegexField(
        services.BATCH_ID_PATTERN.pattern,
        max_length=100,
        help_text="The device's idempotency key: a repeat is a replay, not a second copy.",
    )
    readings = IngestReadingSerializer(many=True, min_length=1, max_length=services.MAX_READINGS)


class IngestRejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the reading in the batch.")
    sensor = serializers.CharField(allow_null=True)
    code = serializers.ChoiceField(
        choices=sorted(set(services.MESSAGES) - {"missing_offset"}),
    )
    message = serializers.CharField()


class IngestReportSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    accepted = serializers.IntegerField(help_text="Readings stored by this batch.")
    rejected = serializers.IntegerField()
    duplicates = serializers.IntegerField(
        help_text="Valid readings already stored (same sensor and time) by an earlier batch."
    )
    replayed = serializers.BooleanField(help_text="True when the batch id was seen before.")
    rejections = IngestRejectionSerializer(many=True)


class IngestApi(TenantApi):
    authentication_classes = [DeviceKeyAuthentication]
    permission_classes = [IsDevice]
    filter_backends: list = []

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # A refused key is answered by the ApplicationError branch of the exception
        # handler, which knows nothing of authentication schemes: name ours (RFC 9110).
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            response.setdefault(
                "WWW-Authenticate", DeviceKeyAuthentication().authenticate_header(self.request)
            )
        return response

    @extend_schema(
        request=IngestInputSerializer,
        responses={
            200: OpenApiResponse(IngestReportSerializer, description="A replayed batch."),
            201: IngestReportSerializer,
            400: ERROR,
            401: ERROR,
            409: ERROR,
            413: ERROR,
            422: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        """Post a batch of at most 10,000 readings. Bad readings are rejected one by one
        in ``rejections``; the rest are stored (201). The same ``batch_id`` again with the
        same readings answers the stored report (200, ``replayed``) and stores nothing;
        with other readings it is a 409 ``pipeline.batch_conflict``. When every reading is
        rejected nothing is stored: 422 ``pipeline.batch_rejected`` with the rejections in
        ``error.details.rejections``. A sensor wired to a
        device takes readings from that device only; one wired to none, from any device.
        Bodies above TENANTRY_MAX_BODY_BYTES (1 MiB by default) are a 413: 10,000
        readings fit with sensor codes of about 30 characters."""
        report = services.batch_ingest(device=request.auth, payload=request.data)
        return Response(
            report.as_dict(),
            status=status.HTTP_200_OK if report.replayed else status.HTTP_201_CREATED,
        )


# --- device keys ----------------------------------------------------------------------------


class DeviceKeyOutputSerializer(serializers.ModelSerializer):
    device = serializers.UUIDField(source="device_id")
    is_usable = serializers.SerializerMethodField()

    class Meta:
        model = DeviceKey
        fields = (
            "id",
            "device",
            "prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "is_usable",
        )

    def get_is_usable(self, key: DeviceKey) -> bool:
        return key.is_usable()


class DeviceKeyIssuedSerializer(DeviceKeyOutputSerializer):
    raw_key = serializers.SerializerMethodField(
        help_text="The key itself: shown this once, only its hash is kept."
    )

    class Meta(DeviceKeyOutputSerializer.Meta):
        fields = (*DeviceKeyOutputSerializer.Meta.fields, "raw_key")

    def get_raw_key(self, key: DeviceKey) -> str:
        return self.context["raw_key"]


class DeviceKeyIssueInputSerializer(StrictSerializer):
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class DeviceKeyRotateInputSerializer(StrictSerializer):
    grace_hours = StrictIntegerField(
        min_value=0,
        max_value=services.MAX_GRACE_HOURS,
        required=False,
        default=24,
        help_text="How long the device's other keys keep working.",
    )


def _issued(key: DeviceKey, raw_key: str) -> Response:
    data = DeviceKeyIssuedSerializer(key, context={"raw_key": raw_key}).data
    return Response(data, status=status.HTTP_201_CREATED)


class DeviceKeyListIssueApi(TenantApi):
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[DeviceKey]:
        return DeviceKey.objects.none()

    @extend_schema(responses={200: DeviceKeyOutputSerializer(many=True), 403: ERROR, 404: ERROR})
    def get(self, request: Request, device_id: str) -> Response:
        """The device's keys, newest first; never their secrets."""
        device = selectors.device_get_for_keys(actor=self.actor, device_id=device_id)
        return self.list_response(
            selectors.device_key_list(actor=self.actor, device=device), DeviceKeyOutputSerializer
        )

    @extend_schema(
        request=DeviceKeyIssueInputSerializer,
        responses={201: DeviceKeyIssuedSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, device_id: str) -> Response:
        """A new key; ``raw_key`` is in this answer only. The device's other keys keep
        working (rotate to retire them)."""
        device = selectors.device_get_for_keys(actor=self.actor, device_id=device_id)
        payload = DeviceKeyIssueInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key, raw_key = services.device_key_issue(
            actor=self.actor, device=device, expires_at=payload.validated_data["expires_at"]
        )
        return _issued(key, raw_key)


class DeviceKeyRotateApi(TenantApi):
    filter_backends: list = []

    @extend_schema(
        request=DeviceKeyRotateInputSerializer,
        responses={201: DeviceKeyIssuedSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, device_id: str) -> Response:
        """A new key (``raw_key`` shown once); the device's other usable keys expire
        ``grace_hours`` from now."""
        device = selectors.device_get_for_keys(actor=self.actor, device_id=device_id)
        payload = DeviceKeyRotateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key, raw_key = services.device_key_rotate(
            actor=self.actor, device=device, grace_hours=payload.validated_data["grace_hours"]
        )
        return _issued(key, raw_key)


class DeviceKeyRevokeApi(TenantApi):
    filter_backends: list = []

    @extend_schema(request=None, responses={200: DeviceKeyOutputSerializer, 403: ERROR, 404: ERROR})
    def post(self, request: Request, key_id: str) -> Response:
        """Ends the key at once; revoking a revoked key changes nothing."""
        key = selectors.device_key_get(actor=self.actor, key_id=key_id)
        key = services.device_key_revoke(actor=self.actor, key=key)
        return Response(DeviceKeyOutputSerializer(key).data)


# --- readings -------------------------------------------------------------------------------


class ReadingFilterSerializer(StrictSerializer):
    sensor = serializers.UUIDField()
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(
        min_value=1,
        max_value=selectors.MAX_READINGS_LIMIT,
        required=False,
        default=selectors.DEFAULT_READINGS_LIMIT,
    )


class ReadingPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    value = serializers.FloatField(help_text="Calibrated: raw * factor + offset.")
    raw_value = serializers.FloatField()


class ReadingSeriesSerializer(serializers.Serializer):
    sensor = serializers.UUIDField(source="sensor.pk")
    sensor_code = serializers.CharField(source="sensor.code")
    unit = serializers.CharField(source="sensor.unit")
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    truncated = serializers.BooleanField(
        help_text="More readings lie in the window: ask again from the last point's time."
    )
    readings = ReadingPointSerializer(source="points", many=True)


class ReadingListApi(TenantApi):
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("sensor", str, required=True, description="The sensor's id."),
            OpenApiParameter("since", str, description="ISO 8601; default: 24 h before until."),
            OpenApiParameter("until", str, description="ISO 8601, exclusive; default: now."),
            OpenApiParameter("limit", int, description="1..10000, default 1000."),
        ],
        responses={200: ReadingSeriesSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def get(self, request: Request) -> Response:
        """A sensor's readings in a window, oldest first, calibrated. A sensor outside
        the caller's zones is a 404."""
        filters = ReadingFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        sensor = selectors.sensor_get_for_readings(actor=self.actor, sensor_id=data["sensor"])
        series = selectors.readings_list(
            actor=self.actor,
            sensor=sensor,
            since=data.get("since"),
            until=data.get("until"),
            limit=data["limit"],
        )
        return Response(ReadingSeriesSerializer(series).data)
