"""Cross-tenant specs of the reports API.

Report names are declared in code, the same for every tenant, except for a business
module's reports: those exist only where the module is on. ``xt-pipeline-report`` (a
report of the "pipeline" module, declared here for the suite) exists on beta's host and
not on alpha's, which has only "hr": the start route is exercised with it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.api.routes import Spec

MODULE_REPORT = "xt-pipeline-report"


def _module_report_generate(*, actor, params, output) -> int:
    output.path.write_bytes(b"")
    return 0


def _ensure_module_report() -> None:
    from apps.reports.registry import report, report_lookup

    if report_lookup(MODULE_REPORT) is None:
        report(
            name=MODULE_REPORT,
            title=MODULE_REPORT,
            permission="reports.view_reportrun",
            module="pipeline",
        )(_module_report_generate)


def _make_module_report() -> tuple[dict, str]:
    _ensure_module_report()
    return {"name": MODULE_REPORT}, MODULE_REPORT


def _module_report_intact(marker: str) -> bool:
    from apps.reports.models import ReportRun
    from apps.reports.registry import report_lookup

    return report_lookup(marker) is not None and not ReportRun.objects.filter(name=marker).exists()


def _make_run() -> tuple[dict, str]:
    from django.utils import timezone

    from apps.jobs.models import JobRun
    from apps.reports.models import ReportRun

    marker = f"xt-report-{uuid.uuid4().hex[:8]}"
    job = JobRun.objects.create(kind="report", label=marker)
    run = ReportRun.objects.create(
        name="users",
        title="Users and roles",
        format="xlsx",
        params={"marker": marker},
        job=job,
        expires_at=timezone.now() + timedelta(days=7),
    )
    return {"run_id": run.pk}, marker


def _run_intact(marker: str) -> bool:
    from apps.reports.models import ReportRun

    return ReportRun.objects.filter(params__marker=marker, job__status="queued").exists()


ROUTES: dict[str, Spec] = {
    "api/v1/reports/": Spec(make=_make_module_report, intact=_module_report_intact),
    "api/v1/reports/<slug:name>/runs/": Spec(
        make=_make_module_report, intact=_module_report_intact
    ),
    "api/v1/reports/runs/": Spec(make=_make_run, intact=_run_intact),
    "api/v1/reports/runs/<uuid:run_id>/": Spec(make=_make_run, intact=_run_intact),
    "api/v1/reports/runs/<uuid:run_id>/download/": Spec(make=_make_run, intact=_run_intact),
}
