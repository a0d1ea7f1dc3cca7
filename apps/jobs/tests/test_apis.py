"""/api/v1/jobs/: who sees which jobs, cancel, and the error shape."""

from __future__ import annotations

import pytest

from apps.core.tenancy import in_tenant
from apps.jobs.models import JobRun
from tests.fixtures import persona
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


def _job_for(schema_name: str, username: str, **fields) -> JobRun:
    with in_tenant(schema_name):
        return JobRun.objects.create(
            kind="reports.generate", requested_by=persona(schema_name, username), **fields
        )


@pytest.fixture
def jobs_in_a() -> dict[str, JobRun]:
    return {name: _job_for(TENANT_A, name) for name in ("staff", "admin", "outsider")}


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_staff_lists_only_their_own_jobs(api_client, jobs_in_a):
    response = api_client(TENANT_A, "staff").get("/api/v1/jobs/")

    assert _ids(response) == {str(jobs_in_a["staff"].pk)}
    row = response.json()["results"][0]
    assert set(row) == {
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
    }
    assert (row["requested_by"], row["status"], row["progress"]) == ("staff", "queued", 0)


def test_an_admin_lists_every_job_of_the_tenant_and_no_other(api_client, jobs_in_a):
    _job_for(TENANT_B, "admin")

    response = api_client(TENANT_A, "admin").get("/api/v1/jobs/")

    assert _ids(response) == {str(job.pk) for job in jobs_in_a.values()}


def test_someone_elses_job_is_not_found(api_client, jobs_in_a):
    client = api_client(TENANT_A, "staff")
    job_id = jobs_in_a["admin"].pk

    detail = client.get(f"/api/v1/jobs/{job_id}/")
    cancel = client.post(f"/api/v1/jobs/{job_id}/cancel/")

    assert (detail.status_code, cancel.status_code) == (404, 404)
    assert cancel.json()["error"]["code"] == "not_found"
    with in_tenant(TENANT_A):
        assert JobRun.objects.get(pk=job_id).status == "queued"


def test_a_job_of_another_tenant_is_not_found_even_for_its_admin(api_client):
    foreign = _job_for(TENANT_B, "admin")

    client = api_client(TENANT_A, "admin")

    assert client.get(f"/api/v1/jobs/{foreign.pk}/").status_code == 404
    assert client.post(f"/api/v1/jobs/{foreign.pk}/cancel/").status_code == 404
    with in_tenant(TENANT_B):
        assert JobRun.objects.get(pk=foreign.pk).status == "queued"


def test_cancel_then_cancel_again_is_a_conflict(api_client, jobs_in_a):
    client = api_client(TENANT_A, "staff")
    job_id = jobs_in_a["staff"].pk

    first = client.post(f"/api/v1/jobs/{job_id}/cancel/")
    second = client.post(f"/api/v1/jobs/{job_id}/cancel/")

    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "jobs.already_finished"
    assert second.json()["error"]["details"] == {"status": "cancelled"}


def test_an_admin_cancels_a_staff_members_job(api_client, jobs_in_a):
    response = api_client(TENANT_A, "admin").post(f"/api/v1/jobs/{jobs_in_a['staff'].pk}/cancel/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["requested_by"]) == ("cancelled", "staff")


def test_the_list_filters_by_status(api_client, jobs_in_a):
    with in_tenant(TENANT_A):
        JobRun.objects.filter(pk=jobs_in_a["admin"].pk).update(status="succeeded")

    response = api_client(TENANT_A, "admin").get("/api/v1/jobs/", {"status": "succeeded"})

    assert _ids(response) == {str(jobs_in_a["admin"].pk)}


def test_anonymous_callers_see_nothing(api_client, jobs_in_a):
    response = api_client(TENANT_A).get("/api/v1/jobs/")

    assert response.status_code == 401
