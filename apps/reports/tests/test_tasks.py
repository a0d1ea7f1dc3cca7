"""reports.generate and reports.cleanup, called as the worker calls them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from datetime import timedelta

import openpyxl
import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.core.errors import PermissionDeniedError
from apps.core.tenancy import in_tenant
from apps.jobs.models import JobRun
from apps.reports import registry, tasks
from apps.reports.models import ReportRun
from apps.reports.registry import report
from apps.reports.tests.conftest import run_fresh, run_generate, run_start
from tests.fixtures import persona
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

USER_HEADER = (
    "Username",
    "Email",
    "First name",
    "Last name",
    "Active",
    "Roles",
    "Created (UTC)",
    "Last login (UTC)",
)


def _sheet_rows(path) -> list[tuple]:
    # Not read-only: that mode drops trailing empty cells, this one pads every row.
    workbook = openpyxl.load_workbook(path)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def _naive(*parts: int) -> dt.datetime:
    """A naive datetime (what Excel holds), read as UTC."""
    return dt.datetime(*parts, tzinfo=dt.UTC).replace(tzinfo=None)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def _expected_user_rows() -> list[tuple]:
    rows = []
    for user in User.objects.order_by("username").prefetch_related("roles"):
        roles = ", ".join(sorted(role.slug for role in user.roles.all()))
        rows.append(
            (
                user.username,
                user.email or None,
                user.first_name or None,
                user.last_name or None,
                user.is_active,
                roles or None,
                _utc(user.created_at),
                _utc(user.last_login),
            )
        )
    return rows


def test_users_report_lists_every_user_with_roles(media):
    with in_tenant(TENANT_A):
        zed = User.objects.create(
            username="zed",
            email="zed@example.test",
            first_name="Zed",
            is_active=False,
            created_at=dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC),
        )
        zed.roles.set(Role.objects.filter(slug__in=["viewer", "staff"]))
        expected = _expected_user_rows()
    run = run_start(TENANT_A, "admin", "users")

    run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    assert run.job.status == JobRun.Status.SUCCEEDED
    assert run.job.progress == 100
    rows = _sheet_rows(media / TENANT_A / run.file)
    assert rows == [USER_HEADER, *expected]
    assert (
        "zed",
        "zed@example.test",
        "Zed",
        None,
        False,
        "staff, viewer",
        _naive(2026, 1, 2, 3, 4, 5),
        None,
    ) in rows
    assert [row[0] for row in rows[1:]] == ["admin", "first-admin", "outsider", "staff", "zed"]
    assert run.row_count == 5
    assert run.job.result == {
        "run_id": str(run.pk),
        "file_name": run.file_name,
        "size": run.size,
        "rows": 5,
    }


def test_the_file_lands_in_the_tenants_own_storage(media):
    run = run_start(TENANT_A, "admin", "users")

    run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    stamp = run.created_at.strftime("%Y%m%d-%H%M%S")
    assert run.file == f"reports/{run.pk}/users-{stamp}.xlsx"
    assert run.file_name == f"users-{stamp}.xlsx"
    on_disk = media / TENANT_A / "reports" / str(run.pk) / run.file_name
    assert on_disk.is_file()
    assert run.size == on_disk.stat().st_size
    assert sorted(path.relative_to(media) for path in media.rglob("*") if path.is_file()) == [
        on_disk.relative_to(media)
    ]
    assert not (media / TENANT_B).exists()


def test_audit_log_report_covers_the_days_asked_for(media):
    with in_tenant(TENANT_A):
        admin = persona(TENANT_A, "admin")
        moments = {
            "xt-before": dt.datetime(2020, 2, 29, 23, 59, 59, tzinfo=dt.UTC),
            "xt-first": dt.datetime(2020, 3, 1, 0, 0, 0, tzinfo=dt.UTC),
            "xt-second": dt.datetime(2020, 3, 2, 23, 59, 59, 900000, tzinfo=dt.UTC),
            "xt-after": dt.datetime(2020, 3, 3, 0, 0, 0, tzinfo=dt.UTC),
        }
        for slug, moment in moments.items():
            role = Role.objects.create(slug=slug, name=slug)
            LogEntry.objects.filter(object_repr=slug).update(
                timestamp=moment, actor=admin, remote_addr="192.0.2.7"
            )
            if slug == "xt-second":
                role.delete()  # deleted the same second: a second entry
                LogEntry.objects.filter(object_repr=slug, action=LogEntry.Action.DELETE).update(
                    timestamp=moment
                )
        entries = {
            (entry.object_repr, entry.action): entry
            for entry in LogEntry.objects.filter(object_repr__in=moments)
        }
    run = run_start(
        TENANT_A, "admin", "audit-log", {"date_from": "2020-03-01", "date_to": "2020-03-02"}
    )

    run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    assert run.job.status == JobRun.Status.SUCCEEDED
    rows = _sheet_rows(media / TENANT_A / run.file)
    assert rows[0] == (
        "Time (UTC)",
        "Actor",
        "Action",
        "Model",
        "Object id",
        "Object",
        "Changes",
        "Remote address",
    )
    first = entries[("xt-first", LogEntry.Action.CREATE)]
    created = entries[("xt-second", LogEntry.Action.CREATE)]
    deleted = entries[("xt-second", LogEntry.Action.DELETE)]
    assert [row[:6] + row[7:] for row in rows[1:]] == [
        (_naive(2020, 3, 1), "admin", "create", "accounts.role", first.object_pk, "xt-first")
        + ("192.0.2.7",),
        (_naive(2020, 3, 2, 23, 59, 59), "admin", "create", "accounts.role")
        + (created.object_pk, "xt-second", "192.0.2.7"),
        (_naive(2020, 3, 2, 23, 59, 59), None, "delete", "accounts.role")
        + (deleted.object_pk, "xt-second", None),
    ]
    assert [json.loads(row[6]) for row in rows[1:]] == [
        first.changes,
        created.changes,
        deleted.changes,
    ]
    assert run.row_count == 3


def test_users_pdf_is_a_pdf(media):
    run = run_start(TENANT_A, "admin", "users-pdf")

    run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    assert run.job.status == JobRun.Status.SUCCEEDED
    assert run.file_name.endswith(".pdf")
    content = (media / TENANT_A / run.file).read_bytes()
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    assert run.format == "pdf"


def test_running_the_task_twice_makes_one_file(media):
    run = run_start(TENANT_A, "admin", "users")

    run_generate(TENANT_A, run)
    first = run_fresh(TENANT_A, run)
    run_generate(TENANT_A, run)

    second = run_fresh(TENANT_A, run)
    assert (second.file, second.size, second.job.attempts) == (first.file, first.size, 1)
    assert len(list((media / TENANT_A / "reports" / str(run.pk)).iterdir())) == 1


def test_a_run_that_has_its_file_is_not_written_again(media):
    """A worker that died after storing the file but before the job was marked done."""
    from apps.reports import services

    run = run_start(TENANT_A, "admin", "users")
    with in_tenant(TENANT_A):
        services.report_run_generate(run_id=run.pk)
        stored = ReportRun.objects.get(pk=run.pk)

    run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    assert run.job.status == JobRun.Status.SUCCEEDED
    assert (run.file, run.size) == (stored.file, stored.size)
    assert len(list((media / TENANT_A / "reports" / str(run.pk)).iterdir())) == 1


def test_leftovers_of_an_interrupted_attempt_are_replaced(media):
    run = run_start(TENANT_A, "admin", "users")
    leftover = media / TENANT_A / "reports" / str(run.pk) / "users-partial.xlsx"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a file")

    run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    assert [path.name for path in leftover.parent.iterdir()] == [run.file_name]


def test_a_revoked_permission_fails_the_job_without_a_file(media):
    run = run_start(TENANT_A, "admin", "users")
    with in_tenant(TENANT_A):
        persona(TENANT_A, "admin").roles.clear()

    # The job records the failure; the task still raises, so Celery logs it too.
    with pytest.raises(PermissionDeniedError):
        run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    assert (run.job.status, run.job.error_code) == (JobRun.Status.FAILED, "permission_denied")
    assert run.file == ""
    assert not (media / TENANT_A / "reports").exists()


def test_a_job_cancelled_before_it_runs_writes_nothing(media):
    run = run_start(TENANT_A, "admin", "users")
    with in_tenant(TENANT_A):
        JobRun.objects.filter(pk=run.job_id).update(status=JobRun.Status.CANCELLED)

    run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    assert (run.job.status, run.file) == (JobRun.Status.CANCELLED, "")
    assert not (media / TENANT_A / "reports").exists()


@pytest.fixture
def cancelling_report() -> Iterator[str]:
    """A report whose job is cancelled while it writes (its next progress notices)."""

    def generate(*, actor, params, output) -> int:
        JobRun.objects.filter(report_run__name="test-cancelling").update(
            status=JobRun.Status.CANCELLED
        )
        output.path.write_bytes(b"partial")
        output.progress(1, 2)
        return 1

    report(name="test-cancelling", title="Cancelling", permission="reports.view_reportrun")(
        generate
    )
    yield "test-cancelling"
    registry.unregister("test-cancelling")


def test_a_job_cancelled_while_it_runs_stores_nothing(media, cancelling_report):
    run = run_start(TENANT_A, "admin", cancelling_report)

    run_generate(TENANT_A, run)

    run = run_fresh(TENANT_A, run)
    assert (run.job.status, run.file) == (JobRun.Status.CANCELLED, "")
    assert not (media / TENANT_A / "reports").exists()


# --- Cleanup -----------------------------------------------------------------------------------


def _expire(run, *, ago: timedelta) -> None:
    with in_tenant(TENANT_A):
        ReportRun.objects.filter(pk=run.pk).update(expires_at=timezone.now() - ago)


def test_cleanup_removes_expired_runs_and_their_files_only(media):
    kept = run_start(TENANT_A, "admin", "users")
    expired = run_start(TENANT_A, "admin", "users")
    for run in (kept, expired):
        run_generate(TENANT_A, run)
    _expire(expired, ago=timedelta(minutes=1))

    removed = tasks.report_cleanup(schema_name=TENANT_A)

    assert removed == 1
    with in_tenant(TENANT_A):
        assert list(ReportRun.objects.values_list("pk", flat=True)) == [kept.pk]
        assert JobRun.objects.filter(pk=expired.job_id).exists()  # the job history stays
    assert not (media / TENANT_A / "reports" / str(expired.pk)).exists()
    kept = run_fresh(TENANT_A, kept)
    assert (media / TENANT_A / kept.file).is_file()


def test_cleanup_twice_is_harmless(media):
    run = run_start(TENANT_A, "admin", "users")
    run_generate(TENANT_A, run)
    _expire(run, ago=timedelta(minutes=1))

    assert tasks.report_cleanup(schema_name=TENANT_A) == 1
    assert tasks.report_cleanup(schema_name=TENANT_A) == 0


def test_cleanup_waits_for_a_running_job_unless_it_is_long_past(media):
    recent = run_start(TENANT_A, "admin", "users")
    stuck = run_start(TENANT_A, "admin", "users")
    _expire(recent, ago=timedelta(hours=1))
    _expire(stuck, ago=timedelta(days=2))

    removed = tasks.report_cleanup(schema_name=TENANT_A)

    assert removed == 1
    with in_tenant(TENANT_A):
        assert list(ReportRun.objects.values_list("pk", flat=True)) == [recent.pk]


def test_cleanup_stays_in_its_tenant(media):
    alpha_run = run_start(TENANT_A, "admin", "users")
    beta_run = run_start(TENANT_B, "admin", "users")
    run_generate(TENANT_A, alpha_run)
    run_generate(TENANT_B, beta_run)
    with in_tenant(TENANT_B):
        ReportRun.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    assert tasks.report_cleanup(schema_name=TENANT_A) == 0

    beta_run = run_fresh(TENANT_B, beta_run)
    assert (media / TENANT_B / beta_run.file).is_file()


def test_new_runs_expire_after_the_retention_setting(settings):
    settings.TENANTRY_REPORT_RETENTION_DAYS = 3

    run = run_start(TENANT_A, "admin", "users")

    assert run.expires_at - run.created_at == timedelta(days=3)
