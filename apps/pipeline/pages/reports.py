"""Pipeline staff pages: the pipeline reports. A form per report the user may run
(period and, optionally, one zone of theirs) starts a run through the platform's reports
service; the run is made in the background and listed below with its download link once
its file is there. static/pipeline/reports.js refreshes the list when the job's
``job.updated`` event arrives over the websocket."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from apps.accounts.selectors import actor_for_user
from apps.core.errors import ApplicationError
from apps.core.types import Actor
from apps.pipeline.models import Zone
from apps.pipeline.selectors.network import zone_scope_filter
from apps.reports import selectors as report_selectors
from apps.reports import services as report_services
from apps.reports.links import download_token_make
from apps.reports.registry import Report

MODULE = "pipeline"
RECENT_RUNS = 20


def _reports(request: HttpRequest, actor: Actor) -> list[Report]:
    modules = getattr(request, "tenant_modules", frozenset())
    return [
        report
        for report in report_selectors.report_list_for_actor(actor=actor, modules=modules)
        if report.module == MODULE
    ]


def _runs(actor: Actor, reports: list[Report]) -> list[dict[str, Any]]:
    runs = report_selectors.report_run_list(actor=actor).filter(
        name__in=[report.name for report in reports]
    )
    listed = []
    for run in runs.order_by("-created_at")[:RECENT_RUNS]:
        download_url = None
        if report_selectors.report_run_may_download(actor=actor, run=run):
            token = download_token_make(
                schema_name=actor.schema_name, run_id=run.pk, user_id=actor.user.pk
            )
            download = reverse("report-run-download", kwargs={"run_id": run.pk})
            download_url = f"{download}?token={token}"
        listed.append({"run": run, "download_url": download_url})
    return listed


def _zones(actor: Actor) -> QuerySet[Zone]:
    return zone_scope_filter(Zone.objects.all(), actor=actor, field="pk")


def _page(
    request: HttpRequest,
    actor: Actor,
    *,
    errors: dict[str, Any] | None = None,
    failed: str = "",
    status: int = 200,
) -> HttpResponse:
    reports = _reports(request, actor)
    zones = _zones(actor).order_by("code")
    return render(
        request,
        "pipeline/reports.html",
        {
            "reports": reports,
            "zones": zones.values_list("pk", "code", "name"),
            "runs": _runs(actor, reports),
            "failed": failed,
            "errors": errors or {},
            "values": request.POST if failed else {},
        },
        status=status,
    )


@login_required
def reports_page(request: HttpRequest) -> HttpResponse:
    return _page(request, actor_for_user(user=request.user))


@login_required
def report_runs_fragment(request: HttpRequest) -> HttpResponse:
    """The list of runs alone, which the page's script reloads when a job changes."""
    actor = actor_for_user(user=request.user)
    response = render(
        request,
        "pipeline/_report_runs.html",
        {"runs": _runs(actor, _reports(request, actor))},
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def report_start(request: HttpRequest, name: str) -> HttpResponse:
    actor = actor_for_user(user=request.user)
    report = next((item for item in _reports(request, actor) if item.name == name), None)
    if report is None:
        raise Http404
    data = {key: request.POST.get(key, "") for key in ("date_from", "date_to")}
    if request.POST.get("zone"):
        data["zone"] = request.POST["zone"]
    parameters = report.parameters(data=data)
    if not parameters.is_valid():
        return _page(request, actor, errors=parameters.errors, failed=name, status=400)
    zone_id = parameters.validated_data.get("zone")
    if zone_id is not None and not _zones(actor).filter(pk=zone_id).exists():
        return _page(request, actor, errors={"zone": ["Unknown zone."]}, failed=name, status=400)
    try:
        report_services.report_run_start(actor=actor, report=report, params=parameters.data)
    except ApplicationError as error:
        return _page(
            request, actor, errors={"non_field_errors": [error.message]}, failed=name, status=400
        )
    return redirect("pipeline-reports")


urlpatterns = [
    path("reports/", reports_page, name="pipeline-reports"),
    path("reports/runs/", report_runs_fragment, name="pipeline-report-runs"),
    path("reports/<slug:name>/", report_start, name="pipeline-report-start"),
]
