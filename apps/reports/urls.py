from django.urls import path

from apps.reports import apis

urlpatterns = [
    path("reports/", apis.ReportListApi.as_view(), name="report-list"),
    path("reports/runs/", apis.ReportRunListApi.as_view(), name="report-run-list"),
    path(
        "reports/runs/<uuid:run_id>/", apis.ReportRunDetailApi.as_view(), name="report-run-detail"
    ),
    path(
        "reports/runs/<uuid:run_id>/download/",
        apis.ReportRunDownloadApi.as_view(),
        name="report-run-download",
    ),
    path("reports/<slug:name>/runs/", apis.ReportRunStartApi.as_view(), name="report-run-start"),
]
