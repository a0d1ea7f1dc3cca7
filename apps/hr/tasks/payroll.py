"""Celery tasks of HR payroll: thin wrappers around apps.hr.services.payroll."""

from __future__ import annotations

from apps.hr.services import payroll as services
from apps.jobs import services as job_services
from apps.jobs.base import tenant_task


# Ten thousand employees compute in well under a minute; the limits stay below the
# broker's visibility_timeout (600 s) so Redis never hands the message to a second worker.
@tenant_task(name="hr.payroll_run_compute", queue="low", soft_time_limit=540, time_limit=580)
def payroll_run_compute(*, schema_name: str, job_id: str, run_id: str) -> None:
    with job_services.job_running(job_id=job_id) as context:
        if context is None:
            return  # finished or cancelled already: a redelivered message
        run = services.payroll_run_compute(run_id=run_id, on_progress=context.progress)
        if run is not None:
            context.job.result = {
                "run_id": str(run.pk),
                "period": f"{run.period:%Y-%m}",
                "employees": run.employee_count,
                "errors": run.error_count,
                "net_total": str(run.net_total),
            }


@tenant_task(name="hr.payroll_run_payslips_issue", queue="low", soft_time_limit=540, time_limit=580)
def payroll_run_payslips_issue(*, schema_name: str, run_id: str, payslips_url: str = "") -> int:
    """PDFs and emails of an approved run; payslips done already are skipped."""
    return services.payroll_run_payslips_issue(run_id=run_id, payslips_url=payslips_url)
