from __future__ import annotations

from collections.abc import Collection

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from apps.accounts.selectors import require_perm
from apps.core.errors import NotFoundError
from apps.core.types import Actor
from apps.reports import registry
from apps.reports.errors import ReportFileGoneError, ReportNotReadyError, UnknownReportError
from apps.reports.links import download_token_check
from apps.reports.models import ReportRun

OVERSEE_RUNS = "reports.oversee_report_runs"


def _available(report: registry.Report, modules: Collection[str]) -> bool:
    return report.module is None or report.module in modules


def report_list_for_actor(*, actor: Actor, modules: Collection[str]) -> list[registry.Report]:
    """The reports this tenant has (module switches) that the actor may run."""
    return [
        report
        for report in registry.report_all()
        if _available(report, modules) and actor.has_perm(report.permission)
    ]


def report_get_for_actor(*, actor: Actor, name: str, modules: Collection[str]) -> registry.Report:
    """The report ``name`` for the actor.

    Raises UnknownReportError (404) for a name no app declares; NotFoundError (404, the
    same answer as any route of a switched-off module) when the report belongs to a
    module this tenant does not have; PermissionDeniedError (403) when the actor lacks
    the report's permission.
    """
    report = registry.report_lookup(name)
    if report is None:
        raise UnknownReportError(name=name)
    if not _available(report, modules):
        raise NotFoundError()
    require_perm(actor, report.permission)
    return report


def report_names_for_actor(*, actor: Actor) -> list[str]:
    return [report.name for report in registry.report_all() if actor.has_perm(report.permission)]


def report_run_list(*, actor: Actor) -> QuerySet[ReportRun]:
    """Runs of reports the actor may run: their own, or everyone's with oversee_report_runs."""
    runs = ReportRun.objects.select_related("job", "created_by").filter(
        name__in=report_names_for_actor(actor=actor)
    )
    if actor.has_perm(OVERSEE_RUNS):
        return runs
    return runs.filter(created_by=actor.user)


def report_run_get(*, actor: Actor, run_id: object) -> ReportRun:
    run = report_run_list(actor=actor).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError()
    return run


def report_run_may_download(*, actor: Actor, run: ReportRun) -> bool:
    report = registry.report_lookup(run.name)
    return run.has_file and report is not None and actor.has_perm(report.permission)


def report_run_for_download(*, actor: Actor, run_id: object, token: str) -> ReportRun:
    """The run whose file ``token`` unlocks for ``actor``, checked in this order:

    - the run exists in this tenant, else NotFoundError (404; another tenant's run ids
      do not exist here);
    - the token was made for this tenant, this run and this user and is younger than
      TENANTRY_REPORT_LINK_SECONDS, else LinkInvalidError (403) or LinkExpiredError (410);
    - the actor still holds the report's permission (it may have been revoked since the
      link was made), else PermissionDeniedError (403);
    - the file is there, else ReportNotReadyError (409) or ReportFileGoneError (410).

    The token is checked before the actor's visibility rules on purpose: a colleague
    handed someone else's link learns only that it is not theirs (403), never the file.
    """
    run = ReportRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFoundError()
    download_token_check(
        token=token, schema_name=actor.schema_name, run_id=run.pk, user_id=actor.user.pk
    )
    report = registry.report_lookup(run.name)
    if report is None:
        raise UnknownReportError(name=run.name)
    require_perm(actor, report.permission)
    if not run.has_file:
        raise ReportNotReadyError()
    if not default_storage.exists(run.file):
        raise ReportFileGoneError()
    return run
