from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.filters import StrictBooleanFilter
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.schedules import selectors, services
from apps.schedules.cron import MAX_EXPRESSION_LENGTH, MAX_PREVIEW_COUNT
from apps.schedules.models import Schedule, ScheduleRun
from apps.schedules.registry import SchedulableTask

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ScheduleOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    next_run_at = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = (
            "id",
            "name",
            "task",
            "params",
            "cron",
            "timezone",
            "is_enabled",
            "last_run_at",
            "next_run_at",
            "created_by",
            "created_at",
            "updated_at",
        )

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_run_at(self, schedule: Schedule) -> str | None:
        next_run = selectors.schedule_next_run(schedule=schedule)
        return _utc_iso(next_run) if next_run else None


class ScheduleInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    task = serializers.CharField(max_length=100, help_text="A key from /schedules/tasks/.")
    params = serializers.DictField(required=False, default=dict)
    cron = serializers.CharField(
        max_length=MAX_EXPRESSION_LENGTH,
        help_text="Five fields: minute hour day-of-month month day-of-week.",
    )
    timezone = serializers.CharField(
        max_length=64, required=False, help_text="IANA name; defaults to the tenant's."
    )
    is_enabled = serializers.BooleanField(required=False, default=True)


class ScheduleRunOutputSerializer(serializers.ModelSerializer):
    schedule = serializers.UUIDField(source="schedule_id")
    requested_by = serializers.CharField(source="requested_by.username", default=None)

    class Meta:
        model = ScheduleRun
        fields = ("id", "schedule", "source", "task", "fired_at", "finished_at", "requested_by")


class ScheduleFilter(filters.FilterSet):
    is_enabled = StrictBooleanFilter()
    task = filters.CharFilter()

    class Meta:
        model = Schedule
        fields = ("is_enabled", "task")


class ScheduleListCreateApi(TenantApi):
    filterset_class = ScheduleFilter
    ordering_fields = ("created_at", "name")

    def get_queryset(self) -> QuerySet[Schedule]:
        return Schedule.objects.none()

    @extend_schema(responses={200: ScheduleOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.schedule_list(actor=self.actor), ScheduleOutputSerializer
        )

    @extend_schema(
        request=ScheduleInputSerializer,
        responses={201: ScheduleOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = ScheduleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        schedule = services.schedule_create(
            actor=self.actor,
            tenant=request.tenant,
            name=data["name"],
            task=data["task"],
            cron_expression=data["cron"],
            timezone=data.get("timezone"),
            params=data["params"],
            is_enabled=data["is_enabled"],
        )
        return Response(ScheduleOutputSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleDetailApi(TenantApi):
    @extend_schema(responses={200: ScheduleOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, schedule_id: str) -> Response:
        schedule = selectors.schedule_get(actor=self.actor, schedule_id=schedule_id)
        return Response(ScheduleOutputSerializer(schedule).data)

    @extend_schema(
        request=ScheduleInputSerializer(partial=True),
        responses={200: ScheduleOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, schedule_id: str) -> Response:
        """Change any field; ``is_enabled`` switches the schedule on or off."""
        schedule = selectors.schedule_get(actor=self.actor, schedule_id=schedule_id)
        payload = ScheduleInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        schedule = services.schedule_update(
            actor=self.actor, schedule=schedule, data=payload.validated_data
        )
        return Response(ScheduleOutputSerializer(schedule).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, schedule_id: str) -> Response:
        schedule = selectors.schedule_get(actor=self.actor, schedule_id=schedule_id)
        services.schedule_delete(actor=self.actor, schedule=schedule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScheduleRunApi(TenantApi):
    @extend_schema(
        request=None,
        responses={202: ScheduleRunOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, schedule_id: str) -> Response:
        """Run the schedule's task once, now (also while the schedule is disabled)."""
        schedule = selectors.schedule_get(actor=self.actor, schedule_id=schedule_id)
        run = services.schedule_run_now(actor=self.actor, schedule=schedule)
        return Response(ScheduleRunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ScheduleRunListApi(TenantApi):
    ordering_fields = ("fired_at",)

    def get_queryset(self) -> QuerySet[ScheduleRun]:
        return ScheduleRun.objects.none()

    @extend_schema(responses={200: ScheduleRunOutputSerializer(many=True), 403: ERROR, 404: ERROR})
    def get(self, request: Request, schedule_id: str) -> Response:
        schedule = selectors.schedule_get(actor=self.actor, schedule_id=schedule_id)
        self.paginator.ordering = "-fired_at"
        return self.list_response(
            selectors.schedule_run_list(actor=self.actor, schedule=schedule),
            ScheduleRunOutputSerializer,
        )


class SchedulePreviewQuerySerializer(serializers.Serializer):
    cron = serializers.CharField(max_length=MAX_EXPRESSION_LENGTH)
    timezone = serializers.CharField(
        max_length=64, required=False, help_text="IANA name; defaults to the tenant's."
    )
    count = serializers.IntegerField(min_value=1, max_value=MAX_PREVIEW_COUNT, default=5)
    after = serializers.DateTimeField(
        required=False, help_text="Preview the runs after this moment instead of now."
    )

    def validate_after(self, value: datetime) -> datetime:
        if not 1970 <= value.year <= 9000:
            raise serializers.ValidationError("Use a year from 1970 to 9000.")
        return value


class SchedulePreviewRunSerializer(serializers.Serializer):
    local = serializers.DateTimeField(help_text="With the offset of the schedule's time zone.")
    utc = serializers.DateTimeField()


class SchedulePreviewSerializer(serializers.Serializer):
    cron = serializers.CharField()
    timezone = serializers.CharField()
    runs = SchedulePreviewRunSerializer(many=True)


class SchedulePreviewApi(TenantApi):
    """The next run times of a cron expression, before saving it."""

    pagination_class = None

    @extend_schema(
        parameters=[SchedulePreviewQuerySerializer],
        responses={200: SchedulePreviewSerializer, 400: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        query = SchedulePreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        preview = selectors.schedule_preview(
            actor=self.actor,
            cron_expression=data["cron"],
            timezone=data.get("timezone") or request.tenant.time_zone,
            count=data["count"],
            after=data.get("after"),
        )
        body = {
            "cron": preview.cron,
            "timezone": preview.timezone,
            # Strings, so the local time keeps its own offset instead of DRF's UTC.
            "runs": [{"local": run.isoformat(), "utc": _utc_iso(run)} for run in preview.runs],
        }
        return Response(SchedulePreviewSerializer(body).data)


class SchedulableTaskParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    help_text = serializers.CharField(allow_blank=True)
    choices = serializers.ListField(child=serializers.CharField(), allow_null=True)


class SchedulableTaskSerializer(serializers.Serializer):
    key = serializers.CharField()
    description = serializers.CharField()
    params = SchedulableTaskParamSerializer(many=True)


class SchedulableTaskListSerializer(serializers.Serializer):
    tasks = SchedulableTaskSerializer(many=True)


class SchedulableTaskListApi(TenantApi):
    """The tasks this tenant may schedule, with their parameters."""

    pagination_class = None

    @extend_schema(responses={200: SchedulableTaskListSerializer, 403: ERROR})
    def get(self, request: Request) -> Response:
        entries = selectors.schedulable_task_list(actor=self.actor)
        body = {"tasks": [_task_description(entry) for entry in entries]}
        return Response(SchedulableTaskListSerializer(body).data)


_PARAM_TYPES: tuple[tuple[type[serializers.Field], str], ...] = (
    (serializers.BooleanField, "boolean"),
    (serializers.ChoiceField, "choice"),
    (serializers.IntegerField, "integer"),
    (serializers.FloatField, "number"),
    (serializers.DecimalField, "number"),
    (serializers.DateTimeField, "datetime"),
    (serializers.DateField, "date"),
    (serializers.ListField, "array"),
    (serializers.DictField, "object"),
    (serializers.CharField, "string"),
)


def _task_description(entry: SchedulableTask) -> dict[str, Any]:
    params = []
    if entry.params_serializer is not None:
        for name, field in entry.params_serializer().fields.items():
            kind = next((kind for klass, kind in _PARAM_TYPES if isinstance(field, klass)), "any")
            choices = (
                [str(choice) for choice in field.choices]
                if isinstance(field, serializers.ChoiceField)
                else None
            )
            params.append(
                {
                    "name": name,
                    "type": kind,
                    "required": bool(field.required),
                    "help_text": str(field.help_text or ""),
                    "choices": choices,
                }
            )
    return {"key": entry.key, "description": entry.description, "params": params}
