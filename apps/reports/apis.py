from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import TenantApi
from apps.jobs.models import JobRun
from apps.reports import selectors, services
from apps.reports.links import download_token_make
from apps.reports.models import ReportRun
from apps.reports.registry import FORMATS

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)


def _modules(request: Request) -> frozenset[str]:
    return frozenset(getattr(request, "tenant_modules", frozenset()))


@extend_schema_serializer(component_name="ReportParameter")
class ReportParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    label = serializers.CharField()
    help_text = serializers.CharField(allow_blank=True)
    choices = serializers.ListField(child=serializers.CharField())
    default = serializers.JSONField(allow_null=True)


@extend_schema_serializer(component_name="Report")
class ReportOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    format = serializers.ChoiceField(choices=sorted(FORMATS))
    permission = serializers.CharField()
    parameters = serializers.SerializerMethodField()

    @extend_schema_field(ReportParameterSerializer(many=True))
    def get_parameters(self, report: Any) -> list[dict[str, Any]]:
        return ReportParameterSerializer(report.parameters_describe(), many=True).data


@extend_schema_serializer(component_name="ReportRun")
class ReportRunOutputSerializer(serializers.ModelSerializer):
    """A run; ``download_url`` (for the caller only, valid a few minutes) once it has its file."""

    report = serializers.CharField(source="name")
    # Text rather than an enum: the job's status enum is the jobs API's own component, and
    # a second use would rename it in the OpenAPI document.
    status = serializers.CharField(
        source="job.status", help_text="The job's: " + ", ".join(JobRun.Status.values) + "."
    )
    progress = serializers.IntegerField(source="job.progress")
    error_code = serializers.CharField(source="job.error_code")
    finished_at = serializers.DateTimeField(source="job.finished_at", allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportRun
        fields = (
            "id",
            "report",
            "title",
            "format",
            "params",
            "status",
            "progress",
            "error_code",
            "job_id",
            "file_name",
            "size",
            "row_count",
            "created_by",
            "created_at",
            "finished_at",
            "expires_at",
            "download_url",
        )

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, run: ReportRun) -> str | None:
        request = self.context["request"]
        actor = request.actor
        if not selectors.report_run_may_download(actor=actor, run=run):
            return None
        token = download_token_make(
            schema_name=actor.schema_name, run_id=run.pk, user_id=actor.user.pk
        )
        path = reverse("report-run-download", kwargs={"run_id": run.pk})
        return request.build_absolute_uri(f"{path}?token={token}")


class ReportListApi(TenantApi):
    """The reports the caller may run here, with their parameters."""

    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses={200: ReportOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        reports = selectors.report_list_for_actor(actor=self.actor, modules=_modules(request))
        return Response(ReportOutputSerializer(reports, many=True).data)


class ReportRunStartApi(TenantApi):
    """Starts a run: the body is the report's parameters (see GET /reports/), ``{}`` for
    none. Answers 202 with the run; follow it at /reports/runs/{id}/ or /jobs/{job_id}/."""

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={202: ReportRunOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, name: str) -> Response:
        report = selectors.report_get_for_actor(
            actor=self.actor, name=name, modules=_modules(request)
        )
        payload = report.parameters(data=request.data)
        payload.is_valid(raise_exception=True)
        run = services.report_run_start(actor=self.actor, report=report, params=payload.data)
        body = ReportRunOutputSerializer(run, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class _FilterForm(forms.Form):
    """``?status=`` (present, empty) is refused as the documented enum says, where
    django-filter would quietly ignore it and list everything."""

    def clean(self) -> dict[str, Any]:
        for name, field in self.fields.items():
            if isinstance(field, forms.ChoiceField) and self.data.get(name) == "":
                values = ", ".join(str(value) for value, _ in field.choices if value)
                self.add_error(name, f"Select one of: {values}.")
        return super().clean()


class ReportRunFilter(filters.FilterSet):
    report = filters.CharFilter(field_name="name")
    status = filters.ChoiceFilter(field_name="job__status", choices=JobRun.Status.choices)

    class Meta:
        model = ReportRun
        fields = ("report", "status")
        form = _FilterForm


class ReportRunListApi(TenantApi):
    filterset_class = ReportRunFilter
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[ReportRun]:
        return ReportRun.objects.none()

    @extend_schema(responses={200: ReportRunOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        runs = self.filter_queryset(selectors.report_run_list(actor=self.actor))
        page = self.paginate_queryset(runs)
        data = ReportRunOutputSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)


class ReportRunDetailApi(TenantApi):
    @extend_schema(responses={200: ReportRunOutputSerializer, 404: ERROR})
    def get(self, request: Request, run_id: str) -> Response:
        run = selectors.report_run_get(actor=self.actor, run_id=run_id)
        return Response(ReportRunOutputSerializer(run, context={"request": request}).data)


class ReportRunDownloadApi(TenantApi):
    """The run's file. Needs both the ``token`` of a ``download_url`` (a few minutes old at
    most) and the session or bearer token of the user it was made for: a leaked link
    alone opens nothing, and a link only opens the file on its own tenant's host."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "token", OpenApiTypes.STR, required=True, description="From download_url."
            )
        ],
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for media_type in FORMATS.values()},
            403: ERROR,
            404: ERROR,
            409: ERROR,
            410: ERROR,
        },
    )
    def get(self, request: Request, run_id: str) -> FileResponse:
        run = selectors.report_run_for_download(
            actor=self.actor, run_id=run_id, token=request.query_params.get("token", "")
        )
        response = FileResponse(
            default_storage.open(run.file, "rb"),
            as_attachment=True,
            filename=run.file_name,
            content_type=FORMATS.get(run.format, "application/octet-stream"),
        )
        response["Cache-Control"] = "private, no-store"
        return response
