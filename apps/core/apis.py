from __future__ import annotations

from auditlog.models import LogEntry
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import selectors
from apps.core.api.views import TenantApi
from apps.core.health import health_check

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)


class HealthApi(APIView):
    """Readiness probe, on every host: 200 when the database and Redis answer, else 503."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema_serializer(component_name="Health")
    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["ok", "unavailable"])
        checks = serializers.DictField(child=serializers.BooleanField())

    @extend_schema(responses={200: OutputSerializer, 503: OutputSerializer}, auth=[])
    def get(self, request: Request) -> Response:
        checks = health_check()
        healthy = all(checks.values())
        body = {"status": "ok" if healthy else "unavailable", "checks": checks}
        return Response(body, status=200 if healthy else 503)


class AuditEntryOutputSerializer(serializers.ModelSerializer):
    action = serializers.CharField(source="get_action_display")
    model = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    changes = serializers.JSONField()

    class Meta:
        model = LogEntry
        fields = (
            "id",
            "timestamp",
            "action",
            "model",
            "object_pk",
            "object_repr",
            "actor",
            "changes",
            "remote_addr",
        )

    def get_model(self, entry: LogEntry) -> str:
        content_type = entry.content_type
        return f"{content_type.app_label}.{content_type.model}"

    def get_actor(self, entry: LogEntry) -> str | None:
        return entry.actor.username if entry.actor else None


class AuditEntryListApi(TenantApi):
    filterset_fields = ("object_pk", "action")
    ordering_fields = ("timestamp",)

    def get_queryset(self) -> QuerySet[LogEntry]:
        return LogEntry.objects.none()

    @extend_schema(responses={200: AuditEntryOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        self.paginator.ordering = "-timestamp"
        return self.list_response(
            selectors.audit_entry_list(actor=self.actor), AuditEntryOutputSerializer
        )


class AuditEntryDetailApi(TenantApi):
    @extend_schema(responses={200: AuditEntryOutputSerializer, 404: ERROR})
    def get(self, request: Request, entry_id: int) -> Response:
        entry = selectors.audit_entry_get(actor=self.actor, entry_id=entry_id)
        return Response(AuditEntryOutputSerializer(entry).data)
