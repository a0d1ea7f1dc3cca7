"""The tenant URLconf plus one endpoint that starts a job, for the broker-outage test.

No product endpoint starts a job yet; this one does what such an endpoint does (one
service call in the request's transaction) so the outage is exercised through HTTP.
"""

from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import TenantApi
from apps.jobs.services import job_run_start
from config.urls_tenant import urlpatterns as tenant_urlpatterns
from tests.jobs.tasks_for_tests import slow_job


class LiveJobStartApi(TenantApi):
    class InputSerializer(serializers.Serializer):
        key = serializers.CharField(max_length=100)

    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = job_run_start(
            task=slow_job,
            kind="tests.api",
            requested_by=request.user,
            steps=1,
            step_seconds=0,
            key=payload.validated_data["key"],
        )
        return Response({"id": str(job.pk), "status": job.status}, status=201)


urlpatterns = [
    path("api/v1/tests/jobs/", LiveJobStartApi.as_view(), name="tests-job-start"),
    *tenant_urlpatterns,
]
