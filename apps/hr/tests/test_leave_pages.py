"""Staff pages /hr/leave/ and /hr/leave/approvals/, and the leave admin."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.core.tenancy import in_tenant
from apps.hr.models import LeaveLedgerEntry, LeaveRequest, LeaveType
from apps.hr.tests.test_leave_support import WEEK_FRI, WEEK_MON, build_org, grant
from tests.personas import HOSTS, PASSWORD, TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    with in_tenant(TENANT_A):
        return build_org()


def _client(username: str, schema_name: str = TENANT_A) -> Client:
    from tests.fixtures import persona

    client = Client(HTTP_HOST=HOSTS[schema_name])
    with in_tenant(schema_name):
        user = persona(schema_name, username)
        user.set_password(PASSWORD)
        user.save()
    # Through the host's login page: Client.login() would authenticate in public.
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def _form(org, **changes) -> dict:
    data = {
        "leave_type": str(org.unpaid.pk),
        "starts_on": WEEK_MON.isoformat(),
        "ends_on": WEEK_FRI.isoformat(),
        "reason": "holiday",
    }
    data.update(changes)
    return data


def test_my_leave_needs_a_login(org):
    response = Client(HTTP_HOST=HOSTS[TENANT_A]).get("/hr/leave/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_pages_do_not_exist_without_the_hr_module(org):
    response = _client("admin", TENANT_B).get("/hr/leave/")

    assert response.status_code == 404


def test_my_leave_shows_balances_and_submits_a_request(org):
    with in_tenant(TENANT_A):
        grant(org.me, org.annual, "10")
    client = _client("staff")

    page = client.get("/hr/leave/")
    sent = client.post("/hr/leave/", _form(org), follow=True)

    assert page.status_code == 200
    assert "Annual (test)" in page.content.decode()
    assert sent.status_code == 200
    assert "sent for approval" in sent.content.decode()
    with in_tenant(TENANT_A):
        (leave,) = LeaveRequest.objects.all()
    assert (leave.status, leave.days, leave.reason) == ("pending", 5, "holiday")


def test_form_errors_sit_next_to_the_fields_and_store_nothing(org):
    client = _client("staff")
    client.post("/hr/leave/", _form(org))

    backwards = client.post(
        "/hr/leave/", _form(org, starts_on=WEEK_FRI.isoformat(), ends_on=WEEK_MON.isoformat())
    )
    overlapping = client.post("/hr/leave/", _form(org, ends_on=WEEK_MON.isoformat()))

    assert backwards.status_code == 400
    assert backwards.context["form"].errors["ends_on"] == ["The leave cannot end before it starts."]
    assert overlapping.status_code == 400
    assert "overlaps" in overlapping.context["form"].errors["starts_on"][0]
    with in_tenant(TENANT_A):
        assert LeaveRequest.objects.count() == 1


def test_a_user_without_employee_record_is_told_so(org):
    response = _client("outsider").get("/hr/leave/")

    assert response.status_code == 404
    assert "not linked to an employee record" in response.content.decode()


def test_manager_approves_on_the_approvals_page(org):
    with in_tenant(TENANT_A):
        grant(org.me, org.annual, "10")
    _client("staff").post("/hr/leave/", _form(org, leave_type=str(org.annual.pk)))
    boss = _client("boss")
    with in_tenant(TENANT_A):
        leave = LeaveRequest.objects.get()

    page = boss.get("/hr/leave/approvals/")
    decided = boss.post(f"/hr/leave/approvals/{leave.pk}/approve/", {"note": "ok"}, follow=True)

    assert org.me.full_name in page.content.decode()
    assert "was approved" in decided.content.decode()
    with in_tenant(TENANT_A):
        assert LeaveRequest.objects.get().status == "approved"
        assert LeaveLedgerEntry.objects.filter(kind="usage").count() == 1


def test_peer_sees_nothing_and_cannot_decide(org):
    _client("staff").post("/hr/leave/", _form(org))
    peer = _client("peer")
    with in_tenant(TENANT_A):
        leave = LeaveRequest.objects.get()

    page = peer.get("/hr/leave/approvals/")
    peer.post(f"/hr/leave/approvals/{leave.pk}/reject/")

    assert org.me.full_name not in page.content.decode()
    with in_tenant(TENANT_A):
        assert LeaveRequest.objects.get().status == "pending"


def test_employee_cancels_from_my_leave(org):
    client = _client("staff")
    client.post("/hr/leave/", _form(org))
    with in_tenant(TENANT_A):
        leave = LeaveRequest.objects.get()

    client.post(f"/hr/leave/{leave.pk}/cancel/")

    with in_tenant(TENANT_A):
        assert LeaveRequest.objects.get().status == "cancelled"


def test_default_types_appear_for_a_tenant_without_any(in_tenant_a, make_employee):
    from tests.fixtures import persona

    make_employee("D-1", user=persona(TENANT_A, "staff"))

    response = _client("staff").get("/hr/leave/")

    assert "Annual leave" in response.content.decode()
    assert set(LeaveType.objects.values_list("code", flat=True)) == {"annual", "sick", "unpaid"}


# --- admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_client() -> Client:
    client = Client(HTTP_HOST=HOSTS[TENANT_A])
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_admin_approve_action_goes_through_the_service(org, admin_client):
    with in_tenant(TENANT_A):
        grant(org.me, org.annual, "10")
    _client("staff").post("/hr/leave/", _form(org, leave_type=str(org.annual.pk)))
    with in_tenant(TENANT_A):
        leave = LeaveRequest.objects.get()

    admin_client.post(
        "/admin/hr/leaverequest/",
        {"action": "approve_selected", "_selected_action": [str(leave.pk)]},
    )

    with in_tenant(TENANT_A):
        assert LeaveRequest.objects.get().status == "approved"
        assert LeaveLedgerEntry.objects.filter(leave_request=leave, kind="usage").exists()


def test_admin_pages_render(org, admin_client):
    for path in (
        "/admin/hr/leavetype/",
        f"/admin/hr/leavetype/{org.annual.pk}/change/",
        "/admin/hr/tenantholiday/",
        "/admin/hr/leaverequest/",
        "/admin/hr/leaveledgerentry/",
        "/admin/hr/leaveledgerentry/add/",
    ):
        assert admin_client.get(path).status_code == 200, path


def test_admin_adjustment_refuses_a_negative_balance_next_to_the_field(org, admin_client):
    with in_tenant(TENANT_A):
        grant(org.me, org.annual, "1")
    data = {
        "employee": str(org.me.pk),
        "leave_type": str(org.annual.pk),
        "days": "-2",
        "effective_on": "2025-05-01",
        "note": "correction",
    }

    refused = admin_client.post("/admin/hr/leaveledgerentry/add/", data)
    made = admin_client.post("/admin/hr/leaveledgerentry/add/", {**data, "days": "-1"})

    assert refused.status_code == 200
    assert "cannot go below zero" in refused.content.decode()
    assert made.status_code == 302
    with in_tenant(TENANT_A):
        assert LeaveLedgerEntry.objects.filter(kind="adjustment", days=-1).count() == 1
