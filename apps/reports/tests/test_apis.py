"""The reports API: list, start, follow, download through a short-lived signed link."""

from __future__ import annotations

import time
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest

from apps.core.tenancy import in_tenant
from apps.jobs.models import JobRun, OutboxMessage
from apps.reports.links import download_token_make
from apps.reports.models import ReportRun
from apps.reports.tests.conftest import error_code, run_fresh, run_generate, run_start
from tests.personas import HOSTS, PERSONAS, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _run_count(schema_name: str = TENANT_A) -> int:
    with in_tenant(schema_name):
        return ReportRun.objects.count()


# --- The registry ------------------------------------------------------------------------------


def test_admin_sees_every_core_report_with_its_parameters(api_client):
    response = api_client(TENANT_A, "admin").get("/api/v1/reports/")

    assert response.status_code == 200
    reports = {item["name"]: item for item in response.json()}
    assert {"users", "audit-log", "users-pdf"} <= set(reports)
    assert reports["audit-log"] == {
        "name": "audit-log",
        "title": "Audit log",
        "description": "Every recorded change between two days (UTC, both included), oldest first.",
        "format": "xlsx",
        "permission": "auditlog.view_logentry",
        "parameters": [
            {
                "name": "date_from",
                "type": "date",
                "required": True,
                "label": "Date from",
                "help_text": "First day (UTC), included.",
                "choices": [],
                "default": None,
            },
            {
                "name": "date_to",
                "type": "date",
                "required": True,
                "label": "Date to",
                "help_text": "Last day (UTC), included.",
                "choices": [],
                "default": None,
            },
        ],
    }
    assert reports["users"]["parameters"] == []


@pytest.mark.parametrize("persona", ["staff", "outsider"])
def test_reports_the_caller_may_not_run_are_not_listed(api_client, persona):
    response = api_client(TENANT_A, persona).get("/api/v1/reports/")

    assert response.status_code == 200
    names = {item["name"] for item in response.json()}
    assert names.isdisjoint({"users", "audit-log", "users-pdf"})


# --- Starting a run ----------------------------------------------------------------------------


def test_starting_a_run_answers_202_with_the_run_and_its_queued_job(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/reports/audit-log/runs/",
        {"date_from": "2026-01-01", "date_to": "2026-01-31"},
        format="json",
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["report"], body["status"], body["progress"], body["download_url"]) == (
        "audit-log",
        "queued",
        0,
        None,
    )
    assert body["params"] == {"date_from": "2026-01-01", "date_to": "2026-01-31"}
    assert body["created_by"] == "admin"
    with in_tenant(TENANT_A):
        run = ReportRun.objects.get(pk=body["id"])
        job = JobRun.objects.get(pk=body["job_id"])
        message = OutboxMessage.objects.get(task_name="reports.generate")
    assert run.job_id == job.pk
    assert (job.kind, job.label, str(job.requested_by_id)) == (
        "report",
        "Audit log",
        str(PERSONAS["admin"][0]),
    )
    assert job.params == {
        "report": "audit-log",
        "params": {"date_from": "2026-01-01", "date_to": "2026-01-31"},
    }
    assert message.queue == "low"
    assert message.kwargs == {"schema_name": TENANT_A, "job_id": str(job.pk), "run_id": str(run.pk)}


def test_a_report_without_parameters_starts_from_an_empty_body(api_client):
    response = api_client(TENANT_A, "admin").post("/api/v1/reports/users/runs/")

    assert response.status_code == 202, response.content
    assert response.json()["params"] == {}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"date_from", "date_to"}),
        ({"date_from": "2026-13-01", "date_to": "2026-01-31"}, {"date_from"}),
        ({"date_from": "2026-02-01", "date_to": "2026-01-31"}, {"date_to"}),
        ({"date_from": "2026-01-01", "date_to": "2026-01-31", "limit": 5}, {"limit"}),
        ({"date_from": 20260101, "date_to": "2026-01-31"}, {"date_from"}),
    ],
    ids=["missing", "bad-date", "reversed", "unknown-field", "wrong-type"],
)
def test_invalid_parameters_are_a_400_naming_the_fields(api_client, body, fields):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/reports/audit-log/runs/", body, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert set(response.json()["error"]["fields"]) == fields
    assert _run_count() == 0


def test_a_report_without_parameters_refuses_any(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/reports/users/runs/", {"surprise": 1}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"surprise": ["Unknown field."]}


def test_an_unknown_report_is_a_404(api_client):
    response = api_client(TENANT_A, "admin").post("/api/v1/reports/no-such-report/runs/")

    assert response.status_code == 404
    assert error_code(response) == "reports.unknown_report"


@pytest.mark.parametrize(
    ("persona", "name", "body"),
    [
        ("staff", "users", {}),
        ("staff", "users-pdf", {}),
        ("staff", "audit-log", {"date_from": "2026-01-01", "date_to": "2026-01-02"}),
        ("outsider", "users", {}),
    ],
)
def test_a_caller_without_the_reports_permission_is_refused(api_client, persona, name, body):
    response = api_client(TENANT_A, persona).post(
        f"/api/v1/reports/{name}/runs/", body, format="json"
    )

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert _run_count() == 0
    with in_tenant(TENANT_A):
        assert not JobRun.objects.exists()


def test_permission_is_checked_before_parameters(api_client):
    response = api_client(TENANT_A, "staff").post(
        "/api/v1/reports/audit-log/runs/", {"bogus": True}, format="json"
    )

    assert response.status_code == 403


# --- Following runs ----------------------------------------------------------------------------


def test_a_finished_run_carries_a_download_url_for_the_caller(api_client, media):
    run = run_start(TENANT_A, "admin", "users")
    run_generate(TENANT_A, run)

    response = api_client(TENANT_A, "admin").get(f"/api/v1/reports/runs/{run.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["progress"], body["row_count"]) == ("succeeded", 100, 4)
    url = urlsplit(body["download_url"])
    assert (url.scheme, url.netloc, url.path) == (
        "http",
        HOSTS[TENANT_A],
        f"/api/v1/reports/runs/{run.pk}/download/",
    )
    assert list(parse_qs(url.query)) == ["token"]


def test_a_queued_run_has_no_download_url(api_client):
    run = run_start(TENANT_A, "admin", "users")

    response = api_client(TENANT_A, "admin").get(f"/api/v1/reports/runs/{run.pk}/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["download_url"]) == ("queued", None)


def test_runs_list_shows_own_runs_and_filters(api_client):
    users_run = run_start(TENANT_A, "admin", "users")
    pdf_run = run_start(TENANT_A, "admin", "users-pdf")
    client = api_client(TENANT_A, "admin")

    everything = client.get("/api/v1/reports/runs/")
    only_pdf = client.get("/api/v1/reports/runs/", {"report": "users-pdf"})
    bad_status = client.get("/api/v1/reports/runs/", {"status": "exploded"})
    empty_status = client.get("/api/v1/reports/runs/", {"status": ""})
    queued = client.get("/api/v1/reports/runs/", {"status": "queued"})

    assert [item["id"] for item in everything.json()["results"]] == [
        str(pdf_run.pk),
        str(users_run.pk),
    ]
    assert [item["id"] for item in only_pdf.json()["results"]] == [str(pdf_run.pk)]
    assert len(queued.json()["results"]) == 2
    for refused in (bad_status, empty_status):
        assert refused.status_code == 400
        assert list(refused.json()["error"]["fields"]) == ["status"]


def test_a_user_without_the_reports_permission_does_not_see_its_runs(api_client):
    run = run_start(TENANT_A, "admin", "users")
    client = api_client(TENANT_A, "staff")

    listed = client.get("/api/v1/reports/runs/")
    detail = client.get(f"/api/v1/reports/runs/{run.pk}/")

    assert listed.json()["results"] == []
    assert detail.status_code == 404
    assert error_code(detail) == "not_found"


def test_without_oversight_a_user_sees_only_their_own_runs(api_client):
    from django.contrib.auth.models import Permission

    from apps.accounts.models import Role
    from tests.fixtures import persona

    with in_tenant(TENANT_A):
        reader = Role.objects.create(slug="user-reader", name="User reader")
        reader.permissions.add(
            Permission.objects.get(content_type__app_label="accounts", codename="view_user")
        )
        persona(TENANT_A, "outsider").roles.add(reader)
    admins_run = run_start(TENANT_A, "admin", "users")
    own_run = run_start(TENANT_A, "outsider", "users")
    client = api_client(TENANT_A, "outsider")

    listed = client.get("/api/v1/reports/runs/")
    admins = client.get(f"/api/v1/reports/runs/{admins_run.pk}/")

    assert [item["id"] for item in listed.json()["results"]] == [str(own_run.pk)]
    assert admins.status_code == 404


# --- Downloading -------------------------------------------------------------------------------


@pytest.fixture
def finished_run(media):
    run = run_start(TENANT_A, "admin", "users")
    run_generate(TENANT_A, run)
    return run_fresh(TENANT_A, run)


def _download_url(api_client, run, persona: str = "admin") -> str:
    response = api_client(TENANT_A, persona).get(f"/api/v1/reports/runs/{run.pk}/")
    return urlsplit(response.json()["download_url"])._replace(scheme="", netloc="").geturl()


def test_the_download_url_serves_the_file_to_its_user(api_client, finished_run, media, tmp_path):
    url = _download_url(api_client, finished_run)

    response = api_client(TENANT_A, "admin").get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == (f'attachment; filename="{finished_run.file_name}"')
    assert response["Cache-Control"] == "private, no-store"
    content = b"".join(response.streaming_content)
    assert content == (media / TENANT_A / finished_run.file).read_bytes()
    downloaded = tmp_path / "downloaded.xlsx"
    downloaded.write_bytes(content)
    header = next(openpyxl.load_workbook(downloaded, read_only=True).worksheets[0].values)
    assert header[0] == "Username"


def test_an_expired_link_is_gone(api_client, finished_run, settings):
    settings.TENANTRY_REPORT_LINK_SECONDS = 300
    url = _download_url(api_client, finished_run)
    later = time.time() + 301

    with mock.patch("django.core.signing.time.time", return_value=later):
        response = api_client(TENANT_A, "admin").get(url)

    assert response.status_code == 410
    assert error_code(response) == "reports.link_expired"


def test_a_link_is_good_until_it_expires(api_client, finished_run, settings):
    settings.TENANTRY_REPORT_LINK_SECONDS = 300
    url = _download_url(api_client, finished_run)
    later = time.time() + 290

    with mock.patch("django.core.signing.time.time", return_value=later):
        response = api_client(TENANT_A, "admin").get(url)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.split(".")[0],
        lambda token: "",
        lambda token: "garbage",
    ],
    ids=["signature", "no-signature", "empty", "garbage"],
)
def test_a_tampered_link_is_refused(api_client, finished_run, tamper):
    url = _download_url(api_client, finished_run)
    path, token = url.split("?token=")

    response = api_client(TENANT_A, "admin").get(path, {"token": tamper(token)})

    assert response.status_code == 403
    assert error_code(response) == "reports.link_invalid"


def test_a_download_without_a_token_is_refused(api_client, finished_run):
    response = api_client(TENANT_A, "admin").get(
        f"/api/v1/reports/runs/{finished_run.pk}/download/"
    )

    assert response.status_code == 403
    assert error_code(response) == "reports.link_invalid"


def test_a_link_needs_its_users_credentials(api_client, finished_run):
    url = _download_url(api_client, finished_run)

    anonymous = api_client(TENANT_A).get(url)
    staff = api_client(TENANT_A, "staff").get(url)
    other_admin = api_client(TENANT_A, "first-admin").get(url)

    assert anonymous.status_code == 401
    assert (staff.status_code, error_code(staff)) == (403, "reports.link_invalid")
    assert (other_admin.status_code, error_code(other_admin)) == (403, "reports.link_invalid")


def test_a_user_whose_permission_was_revoked_cannot_download(api_client, finished_run):
    """A link made for staff (who may not read users) does not open the file."""
    staff_id = PERSONAS["staff"][0]
    token = download_token_make(schema_name=TENANT_A, run_id=finished_run.pk, user_id=staff_id)

    response = api_client(TENANT_A, "staff").get(
        f"/api/v1/reports/runs/{finished_run.pk}/download/", {"token": token}
    )

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_a_link_of_tenant_a_does_not_open_the_same_run_id_on_b(api_client, finished_run, media):
    """Same run id, same user id (personas share ids), another tenant: refused."""
    url = _download_url(api_client, finished_run)
    with in_tenant(TENANT_B):
        job = JobRun.objects.create(kind="report")
        ReportRun.objects.create(
            id=finished_run.pk,
            name="users",
            title="Users and roles",
            format="xlsx",
            job=job,
            file=finished_run.file,
            file_name=finished_run.file_name,
            expires_at=finished_run.expires_at,
        )
    beta_file = media / TENANT_B / finished_run.file
    beta_file.parent.mkdir(parents=True)
    beta_file.write_bytes(b"beta's own file")

    on_b = api_client(TENANT_B, "admin").get(url)
    a_token_on_b = api_client(TENANT_A, "admin", host=HOSTS[TENANT_B]).get(url)

    assert (on_b.status_code, error_code(on_b)) == (403, "reports.link_invalid")
    assert (a_token_on_b.status_code, error_code(a_token_on_b)) == (401, "token_not_valid")


def test_a_run_of_another_tenant_is_not_found(api_client, finished_run):
    url = _download_url(api_client, finished_run)

    response = api_client(TENANT_B, "admin").get(url)

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_a_file_removed_behind_the_runs_back_is_gone(api_client, finished_run, media):
    url = _download_url(api_client, finished_run)
    (media / TENANT_A / finished_run.file).unlink()

    response = api_client(TENANT_A, "admin").get(url)

    assert response.status_code == 410
    assert error_code(response) == "reports.file_gone"


def test_a_run_without_its_file_yet_is_not_ready(api_client):
    run = run_start(TENANT_A, "admin", "users")
    token = download_token_make(schema_name=TENANT_A, run_id=run.pk, user_id=PERSONAS["admin"][0])

    response = api_client(TENANT_A, "admin").get(
        f"/api/v1/reports/runs/{run.pk}/download/", {"token": token}
    )

    assert response.status_code == 409
    assert error_code(response) == "reports.not_ready"
