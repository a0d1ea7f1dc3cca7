from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.filters import StrictChoiceFilter
from apps.core.api.views import TenantApi
from apps.jobs import selectors, services
from apps.jobs.models import JobRun

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)


class JobRunOutputSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", default=None)

    class Meta:
        model = JobRun
        fields = (
            "id",
            "kind",
            "label",
            "params",
            "status",
            "progress",
            "result",
            "error_code",
            "error_message",
            "requested_by",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        )


class JobRunFilter(filters.FilterSet):
    status = StrictChoiceFilter(choices=JobRun.Status.choices)
    kind = filters.CharFilter()

    class Meta:
        model = JobRun
        fields = ("status", "kind")


class JobRunListApi(TenantApi):
    filterset_class = JobRunFilter
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[JobRun]:
        return JobRun.objects.none()

    @extend_schema(responses={200: JobRunOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return self.list_response(selectors.job_run_list(actor=self.actor), JobRunOutputSerializer)


class JobRunDetailApi(TenantApi):
    @extend_schema(responses={200: JobRunOutputSerializer, 404: ERROR})
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_run_get(actor=self.actor, job_id=job_id)
        return Response(JobRunOutputSerializer(job).data)


class JobRunCancelApi(TenantApi):
    @extend_schema(request=None, responses={200: JobRunOutputSerializer, 404: ERROR, 409: ERROR})
    def post(self, request: Request, job_id: str) -> Response:
        job = selectors.job_run_get(actor=self.actor, job_id=job_id)
        job = services.job_run_cancel(actor=self.actor, job=job)
        return Response(JobRunOutputSerializer(job).data)
