"""Job runs: start, the running → finished state machine, redelivery, cancel."""

from __future__ import annotations

import pytest

from apps.core.errors import ApplicationError, PermissionDeniedError
from apps.jobs.errors import JobFinishedError, TransientError
from apps.jobs.models import JobRun, OutboxMessage
from apps.jobs.services import job_run_cancel, job_run_start, job_running
from apps.jobs.tests.conftest import actor_of
from tests.fixtures import persona
from tests.jobs.tasks_for_tests import slow_job
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db


class ReportBroken(ApplicationError):
    code = "tests.report_broken"


def _job(**fields) -> JobRun:
    return JobRun.objects.create(kind="tests.slow", **fields)


def test_job_run_start_records_a_queued_job_and_its_outbox_message(in_tenant_a):
    staff = persona(TENANT_A, "staff")

    job = job_run_start(
        task=slow_job, kind="tests.slow", requested_by=staff, params={"year": 2025}, steps=3
    )

    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts, job.requested_by) == ("queued", 0, 0, staff)
    assert job.params == {"year": 2025}
    message = OutboxMessage.objects.get()
    assert message.task_name == "tests.jobs.slow_job"
    assert message.kwargs == {"schema_name": TENANT_A, "job_id": str(job.pk), "steps": 3}


def test_a_job_runs_then_succeeds_with_its_result_and_full_progress(in_tenant_a):
    job = _job()

    with job_running(job_id=str(job.pk)) as context:
        assert JobRun.objects.get(pk=job.pk).status == "running"
        context.progress(40)
        assert JobRun.objects.get(pk=job.pk).progress == 40
        context.job.result = {"rows": 12}

    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts, job.result) == (
        "succeeded",
        100,
        1,
        {"rows": 12},
    )
    assert job.started_at is not None
    assert job.finished_at is not None


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_a_redelivered_finished_job_does_nothing(in_tenant_a, status):
    job = _job(status=status, attempts=1, progress=50)
    ran = []

    with job_running(job_id=str(job.pk)) as context:
        if context is not None:
            ran.append(True)

    assert ran == []
    job.refresh_from_db()
    assert (job.status, job.attempts, job.progress) == (status, 1, 50)


def test_an_unknown_job_does_nothing(in_tenant_a):
    with job_running(job_id="00000000-0000-4000-8000-000000000999") as context:
        assert context is None


def test_a_job_left_running_by_a_dead_worker_runs_again(in_tenant_a):
    job = _job(status="running", attempts=1, progress=30)

    with job_running(job_id=str(job.pk)) as context:
        assert context is not None

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 2)


def test_a_transient_error_puts_the_job_back_in_the_queue_for_the_retry(in_tenant_a):
    job = _job()

    with pytest.raises(TransientError), job_running(job_id=str(job.pk)):
        raise TransientError

    job.refresh_from_db()
    assert (job.status, job.attempts, job.finished_at) == ("queued", 1, None)


def test_a_domain_error_fails_the_job_with_its_code(in_tenant_a):
    job = _job()

    def run() -> None:
        with job_running(job_id=str(job.pk)) as context:
            context.progress(60)
            raise ReportBroken("The template is missing.")

    with pytest.raises(ReportBroken):
        run()

    job.refresh_from_db()
    assert (job.status, job.progress, job.error_code, job.error_message) == (
        "failed",
        60,
        "tests.report_broken",
        "The template is missing.",
    )
    assert job.finished_at is not None


def test_an_unexpected_error_fails_the_job_as_internal(in_tenant_a):
    job = _job()

    with pytest.raises(KeyError), job_running(job_id=str(job.pk)):
        raise KeyError("column")

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == (
        "failed",
        "internal_error",
        "'column'",
    )


def test_a_cancelled_job_stops_at_its_next_progress_report(in_tenant_a):
    job = _job()
    reached = []

    with job_running(job_id=str(job.pk)) as context:
        context.progress(10)
        job_run_cancel(actor=actor_of(TENANT_A, "admin"), job=job)
        context.progress(20)
        reached.append("after the cancel")

    assert reached == []
    job.refresh_from_db()
    assert (job.status, job.progress) == ("cancelled", 10)


def test_the_owner_cancels_their_own_job_without_any_jobs_permission(in_tenant_a):
    staff = actor_of(TENANT_A, "staff")
    assert not staff.has_perm("jobs.change_jobrun")
    job = _job(requested_by=staff.user)

    cancelled = job_run_cancel(actor=staff, job=job)

    assert cancelled.status == "cancelled"
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert job.finished_at is not None


def test_someone_elses_job_needs_the_oversee_permission_to_cancel(in_tenant_a):
    job = _job(requested_by=persona(TENANT_A, "staff"))

    with pytest.raises(PermissionDeniedError):
        job_run_cancel(actor=actor_of(TENANT_A, "outsider"), job=job)

    job.refresh_from_db()
    assert (job.status, job.finished_at) == ("queued", None)


def test_an_admin_cancels_anyones_job(in_tenant_a):
    admin = actor_of(TENANT_A, "admin")
    assert admin.has_perm("jobs.oversee_jobs")
    job = _job(requested_by=persona(TENANT_A, "staff"), status="running")

    assert job_run_cancel(actor=admin, job=job).status == "cancelled"


def test_a_finished_job_cannot_be_cancelled(in_tenant_a):
    staff = actor_of(TENANT_A, "staff")
    job = _job(requested_by=staff.user, status="succeeded")

    with pytest.raises(JobFinishedError) as raised:
        job_run_cancel(actor=staff, job=job)

    assert raised.value.details == {"status": "succeeded"}
    job.refresh_from_db()
    assert job.status == "succeeded"
