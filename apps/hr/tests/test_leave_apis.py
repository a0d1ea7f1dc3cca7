"""The leave part of /api/v1/hr/: status codes, error codes and shapes, row scopes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.core.tenancy import in_tenant
from apps.hr.models import LeaveLedgerEntry, LeaveRequest, LeaveType
from apps.hr.tests.test_leave_support import WEEK_FRI, WEEK_MON, build_org, grant
from tests.personas import TENANT_A

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/hr/leave-requests/"


@pytest.fixture
def org():
    with in_tenant(TENANT_A):
        return build_org()


def _body(org, **changes) -> dict:
    body = {
        "leave_type": str(org.unpaid.pk),
        "starts_on": WEEK_MON.isoformat(),
        "ends_on": WEEK_FRI.isoformat(),
        "submit": True,
    }
    body.update(changes)
    return body


def _error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:400]
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "fields"}
    assert body["error"]["code"] == code
    return body["error"]


def _rows() -> list[tuple]:
    with in_tenant(TENANT_A):
        return list(LeaveRequest.objects.order_by("pk").values_list("pk", "status", "days"))


def test_staff_requests_leave_for_themselves(api_client, org):
    response = api_client(TENANT_A, "staff").post(REQUESTS, _body(org, reason="x"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["days"] == "5.0"
    assert body["employee"] == str(org.me.pk)
    assert body["leave_type_code"] == "unpaid-t"


def test_leave_ending_before_it_starts_is_400_with_field_error(api_client, org):
    body = _body(org, starts_on=WEEK_FRI.isoformat(), ends_on=WEEK_MON.isoformat())

    response = api_client(TENANT_A, "staff").post(REQUESTS, body, format="json")

    error = _error_shape(response, 400, "validation_error")
    assert "ends_on" in error["fields"]
    assert _rows() == []


def test_overlapping_leave_is_409_and_changes_nothing(api_client, org):
    client = api_client(TENANT_A, "staff")
    client.post(REQUESTS, _body(org), format="json")
    before = _rows()

    response = client.post(
        REQUESTS, _body(org, starts_on=(WEEK_FRI - timedelta(days=1)).isoformat()), format="json"
    )

    error = _error_shape(response, 409, "hr.leave_overlaps")
    assert error["details"]["employee_id"] == str(org.me.pk)
    assert _rows() == before


def test_insufficient_balance_is_409(api_client, org):
    with in_tenant(TENANT_A):
        grant(org.me, org.annual, "2")

    response = api_client(TENANT_A, "staff").post(
        REQUESTS, _body(org, leave_type=str(org.annual.pk)), format="json"
    )

    error = _error_shape(response, 409, "hr.insufficient_balance")
    assert error["details"] == {"leave_type": "annual-t", "available": "2.00", "requested": "5"}
    assert _rows() == []


def test_weekend_only_leave_is_400(api_client, org):
    saturday = WEEK_FRI + timedelta(days=1)
    body = _body(org, starts_on=saturday.isoformat(), ends_on=saturday.isoformat())

    response = api_client(TENANT_A, "staff").post(REQUESTS, body, format="json")

    _error_shape(response, 400, "hr.leave_no_working_days")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_on": "1066-10-14"}, "starts_on"),
        ({"ends_on": "9999-12-31"}, "ends_on"),
        ({"leave_type": "00000000-0000-4000-8000-000000000999"}, "leave_type"),
        ({"start_half": "maybe"}, "start_half"),
        ({"days": 3}, "days"),
    ],
)
def test_bad_request_fields_are_400(api_client, org, change, field):
    response = api_client(TENANT_A, "staff").post(REQUESTS, _body(org, **change), format="json")

    error = _error_shape(response, 400, "validation_error")
    assert field in error["fields"]
    assert _rows() == []


def test_manager_approves_through_the_api(api_client, org):
    created = api_client(TENANT_A, "staff").post(REQUESTS, _body(org), format="json").json()
    boss = api_client(TENANT_A, "boss")

    awaiting = boss.get("/api/v1/hr/leave-approvals/").json()["results"]
    response = boss.post(f"{REQUESTS}{created['id']}/approve/", {"note": "enjoy"}, format="json")
    again = boss.post(f"{REQUESTS}{created['id']}/approve/", {}, format="json")

    assert [row["id"] for row in awaiting] == [created["id"]]
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    _error_shape(again, 409, "hr.leave_invalid_transition")


def test_own_approval_is_403_and_peer_approval_403(api_client, org):
    created = api_client(TENANT_A, "staff").post(REQUESTS, _body(org), format="json").json()

    own = api_client(TENANT_A, "staff").post(
        f"{REQUESTS}{created['id']}/approve/", {}, format="json"
    )

    _error_shape(own, 403, "hr.leave_self_approval")
    assert _rows()[0][1] == "pending"


def test_leave_outside_the_scope_is_404(api_client, org):
    created = api_client(TENANT_A, "staff").post(REQUESTS, _body(org), format="json").json()
    peer = api_client(TENANT_A, "peer")

    detail = peer.get(f"{REQUESTS}{created['id']}/")
    approve = peer.post(f"{REQUESTS}{created['id']}/approve/", {}, format="json")
    listed = peer.get(REQUESTS).json()["results"]

    _error_shape(detail, 404, "not_found")
    _error_shape(approve, 404, "not_found")
    assert listed == []


def test_scopes_of_the_list(api_client, org):
    api_client(TENANT_A, "staff").post(REQUESTS, _body(org), format="json")
    with in_tenant(TENANT_A):
        LeaveRequest.objects.create(
            employee=org.peer, leave_type=org.unpaid, starts_on=WEEK_MON, ends_on=WEEK_FRI
        )

    def employees(name: str, **params) -> set[str]:
        rows = api_client(TENANT_A, name).get(REQUESTS, params).json()["results"]
        return {row["employee"] for row in rows}

    assert employees("staff") == {str(org.me.pk)}
    assert employees("bigboss") == {str(org.me.pk)}  # a report of a report
    assert employees("admin") == {str(org.me.pk), str(org.peer.pk)}
    assert employees("peer", mine="true") == {str(org.peer.pk)}


def test_draft_patch_submit_cancel(api_client, org):
    client = api_client(TENANT_A, "staff")
    draft = client.post(REQUESTS, _body(org, submit=False), format="json").json()

    patched = client.patch(f"{REQUESTS}{draft['id']}/", {"reason": "trip"}, format="json")
    submitted = client.post(f"{REQUESTS}{draft['id']}/submit/")
    cancelled = client.post(f"{REQUESTS}{draft['id']}/cancel/")
    patched_late = client.patch(f"{REQUESTS}{draft['id']}/", {"reason": "x"}, format="json")

    assert draft["status"] == "draft"
    assert patched.json()["reason"] == "trip"
    assert submitted.json()["status"] == "pending"
    assert cancelled.json()["status"] == "cancelled"
    _error_shape(patched_late, 409, "hr.leave_invalid_transition")


def test_balances_and_ledger(api_client, org):
    with in_tenant(TENANT_A):
        grant(org.me, org.annual, "10")
    client = api_client(TENANT_A, "staff")
    client.post(REQUESTS, _body(org, leave_type=str(org.annual.pk)), format="json")

    mine = client.get("/api/v1/hr/employees/me/leave-balances/").json()
    by_manager = api_client(TENANT_A, "boss").get(
        f"/api/v1/hr/employees/{org.me.pk}/leave-balances/"
    )
    by_peer = api_client(TENANT_A, "peer").get(f"/api/v1/hr/employees/{org.me.pk}/leave-balances/")
    ledger = client.get("/api/v1/hr/leave-ledger/").json()["results"]

    annual = next(row for row in mine if row["leave_type_code"] == "annual-t")
    assert annual["balance"] == "10.00"
    assert annual["pending"] == "5.00"
    assert annual["available"] == "5.00"
    assert by_manager.status_code == 200
    _error_shape(by_peer, 404, "not_found")
    assert [row["kind"] for row in ledger] == ["accrual"]


def test_adjustment_is_for_hr_admins(api_client, org):
    body = {
        "employee": str(org.me.pk),
        "leave_type": str(org.annual.pk),
        "days": "2.5",
        "note": "carry-over",
    }

    refused = api_client(TENANT_A, "boss").post(
        "/api/v1/hr/leave-adjustments/", body, format="json"
    )
    made = api_client(TENANT_A, "admin").post("/api/v1/hr/leave-adjustments/", body, format="json")
    negative = api_client(TENANT_A, "admin").post(
        "/api/v1/hr/leave-adjustments/", {**body, "days": "-5"}, format="json"
    )

    _error_shape(refused, 403, "permission_denied")
    assert made.status_code == 201
    assert made.json()["kind"] == "adjustment"
    _error_shape(negative, 409, "hr.insufficient_balance")
    with in_tenant(TENANT_A):
        assert LeaveLedgerEntry.objects.count() == 1


def test_leave_types_and_accrual_policy(api_client, org):
    admin = api_client(TENANT_A, "admin")

    created = admin.post(
        "/api/v1/hr/leave-types/", {"code": "study", "name": "Study leave"}, format="json"
    )
    taken = admin.post("/api/v1/hr/leave-types/", {"code": "study", "name": "x"}, format="json")
    policy = admin.put(
        f"/api/v1/hr/leave-types/{created.json()['id']}/accrual-policy/",
        {"frequency": "yearly", "days_per_period": "5", "cap_days": "10"},
        format="json",
    )
    bad_policy = admin.put(
        f"/api/v1/hr/leave-types/{created.json()['id']}/accrual-policy/",
        {"frequency": "weekly", "days_per_period": "NaN"},
        format="json",
    )
    by_staff = api_client(TENANT_A, "staff").post(
        "/api/v1/hr/leave-types/", {"code": "mine", "name": "x"}, format="json"
    )
    with in_tenant(TENANT_A):
        LeaveRequest.objects.create(
            employee=org.me, leave_type=org.unpaid, starts_on=WEEK_MON, ends_on=WEEK_FRI
        )
    in_use = admin.delete(f"/api/v1/hr/leave-types/{org.unpaid.pk}/")

    assert created.status_code == 201
    _error_shape(taken, 409, "hr.name_taken")
    assert policy.json()["cap_days"] == "10.00"
    assert set(_error_shape(bad_policy, 400, "validation_error")["fields"]) == {
        "frequency",
        "days_per_period",
    }
    _error_shape(by_staff, 403, "permission_denied")
    _error_shape(in_use, 409, "hr.leave_type_in_use")
    listed = admin.get("/api/v1/hr/leave-types/").json()["results"]
    study = next(row for row in listed if row["code"] == "study")
    assert study["accrual_policy"]["frequency"] == "yearly"
    with in_tenant(TENANT_A):
        assert LeaveType.objects.filter(pk=org.unpaid.pk).exists()
