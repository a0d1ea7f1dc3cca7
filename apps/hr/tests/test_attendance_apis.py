"""The shifts and attendance API contract: status codes, error codes, shapes, row scopes,
and bad input that changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from apps.core.tenancy import in_tenant
from apps.hr.models import (
    AttendanceCorrection,
    AttendanceRecord,
    Employee,
    HrPolicy,
    ShiftTemplate,
    WorkLocation,
)
from apps.hr.tests.test_attendance_services import assign, give_role, location, shift
from tests.fixtures import persona
from tests.personas import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

AT_LONDON = {"latitude": 51.5137, "longitude": -0.0904, "accuracy_m": 12.5}
AWAY = {"latitude": 51.5136, "longitude": -0.076, "accuracy_m": 12.5}
CHECK_IN = "/api/v1/hr/attendance/check-in/"
CHECK_OUT = "/api/v1/hr/attendance/check-out/"


def _employee(number: str, **fields) -> Employee:
    with in_tenant(TENANT_A):
        values = {
            "first_name": "F",
            "last_name": number,
            "employment_start": date(2024, 1, 1),
            "work_time_zone": "Europe/London",
        }
        return Employee.objects.create(employee_number=number, **{**values, **fields})


@pytest.fixture
def office() -> WorkLocation:
    with in_tenant(TENANT_A):
        return location()


@pytest.fixture
def staff(office) -> Employee:
    employee = _employee("S-1", user=persona(TENANT_A, "staff"))
    with in_tenant(TENANT_A):
        employee.allowed_locations.set([office])
    return employee


def _records() -> list[tuple]:
    with in_tenant(TENANT_A):
        return list(
            AttendanceRecord.objects.order_by("pk").values_list(
                "pk", "state", "check_in_at", "check_out_at", "approval"
            )
        )


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- check-in / check-out ------------------------------------------------------------------


def test_check_in_then_out_answers_the_record(api_client, staff, office):
    client = api_client(TENANT_A, "staff")

    checked_in = client.post(CHECK_IN, AT_LONDON, format="json")
    checked_out = client.post(CHECK_OUT, AT_LONDON, format="json")

    assert checked_in.status_code == 201, checked_in.content
    body = checked_in.json()
    assert body["state"] == "open"
    assert body["approval"] == "not_required"
    assert body["employee"] == str(staff.pk)
    assert body["time_zone"] == "Europe/London"
    assert body["check_in_location"] == str(office.pk)
    assert body["check_in_latitude"] == "51.513700"
    assert body["check_in_accuracy_m"] == "12.5"
    assert body["check_out_at"] is None
    assert checked_out.status_code == 200, checked_out.content
    assert checked_out.json()["state"] == "closed"
    assert checked_out.json()["id"] == body["id"]


def test_server_clock_sets_the_time(api_client, staff):
    from django.utils import timezone

    before = timezone.now()
    response = api_client(TENANT_A, "staff").post(
        CHECK_IN, {**AT_LONDON, "check_in_at": "2020-01-01T00:00:00Z"}, format="json"
    )

    _assert_error(response, 400, "validation_error")
    response = api_client(TENANT_A, "staff").post(CHECK_IN, AT_LONDON, format="json")
    punched = datetime.fromisoformat(response.json()["punched_in_at"])
    assert before <= punched <= timezone.now()


def test_outside_the_fence_is_403_and_stores_nothing(api_client, staff):
    response = api_client(TENANT_A, "staff").post(CHECK_IN, AWAY, format="json")

    error = _assert_error(response, 403, "hr.outside_geofence")
    assert error["details"]["reason"] == "distance"
    assert error["details"]["nearest_location"] == "London office"
    assert "London office" in error["message"]
    assert _records() == []


def test_outside_the_fence_is_pending_under_needs_approval(api_client, staff):
    client = api_client(TENANT_A, "admin")
    client.patch("/api/v1/hr/policy/", {"outside_geofence": "needs_approval"}, format="json")

    response = api_client(TENANT_A, "staff").post(CHECK_IN, AWAY, format="json")

    assert response.status_code == 201
    assert response.json()["approval"] == "pending"


def test_second_check_in_is_409(api_client, staff):
    client = api_client(TENANT_A, "staff")
    client.post(CHECK_IN, AT_LONDON, format="json")
    before = _records()

    response = client.post(CHECK_IN, AT_LONDON, format="json")

    _assert_error(response, 409, "hr.already_checked_in")
    assert _records() == before


def test_check_out_without_check_in_is_409(api_client, staff):
    response = api_client(TENANT_A, "staff").post(CHECK_OUT, AT_LONDON, format="json")

    _assert_error(response, 409, "hr.no_open_shift")
    assert _records() == []


def test_account_without_employee_is_403(api_client, office):
    response = api_client(TENANT_A, "admin").post(CHECK_IN, AT_LONDON, format="json")

    _assert_error(response, 403, "hr.no_employee_record")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"latitude", "longitude", "accuracy_m"}),
        ({"latitude": 91, "longitude": 0, "accuracy_m": 5}, {"latitude"}),
        ({"latitude": 0, "longitude": 181, "accuracy_m": 5}, {"longitude"}),
        ({"latitude": "51.5", "longitude": 0, "accuracy_m": 5}, {"latitude"}),
        ({"latitude": True, "longitude": 0, "accuracy_m": 5}, {"latitude"}),
        ({"latitude": None, "longitude": 0, "accuracy_m": 5}, {"latitude"}),
        ({"latitude": 1, "longitude": 0, "accuracy_m": -3}, {"accuracy_m"}),
        ({"latitude": 1, "longitude": 0, "accuracy_m": 1e300}, {"accuracy_m"}),
        ({"latitude": 1, "longitude": 0, "accuracy_m": 5, "altitude": 3}, {"altitude"}),
    ],
    ids=[
        "missing",
        "latitude-91",
        "longitude-181",
        "string",
        "boolean",
        "null",
        "negative-accuracy",
        "huge-accuracy",
        "unknown-field",
    ],
)
def test_bad_coordinates_are_400_and_store_nothing(api_client, staff, body, fields):
    client = api_client(TENANT_A, "staff")
    client.post(CHECK_IN, AT_LONDON, format="json")
    before = _records()

    responses = [client.post(path, body, format="json") for path in (CHECK_IN, CHECK_OUT)]

    for response in responses:
        error = _assert_error(response, 400, "validation_error")
        assert fields <= set(error["fields"])
    assert _records() == before


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("NaN", "malformed_request"),
        ("Infinity", "malformed_request"),
        ("1e400", "validation_error"),
    ],
)
def test_non_finite_numbers_are_400(api_client, staff, raw, code):
    body = '{"latitude": %s, "longitude": 0, "accuracy_m": 5}' % raw  # noqa: UP031

    response = api_client(TENANT_A, "staff").generic(
        "POST", CHECK_IN, body, content_type="application/json"
    )

    error = _assert_error(response, 400, code)
    assert code == "malformed_request" or "latitude" in error["fields"]
    assert _records() == []


# --- scopes --------------------------------------------------------------------------------


def _record(employee: Employee, **fields) -> AttendanceRecord:
    at = datetime(2026, 6, 15, 8, tzinfo=UTC)
    values = {"work_date": date(2026, 6, 15), "check_in_at": at, "punched_in_at": at}
    with in_tenant(TENANT_A):
        return AttendanceRecord.objects.create(employee=employee, **{**values, **fields})


@pytest.fixture
def org(staff):
    """staff manages ``report`` who manages ``below``; ``peer`` reports to nobody."""
    report = _employee("R-1", manager=staff)
    below = _employee("R-2", manager=report)
    peer = _employee("P-1")
    records = {name: _record(e) for name, e in {"staff": staff, "report": report}.items()}
    records["below"] = _record(below, approval="pending")
    records["peer"] = _record(peer)
    return records


def _listed(client, **params) -> set[str]:
    response = client.get("/api/v1/hr/attendance/", params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_staff_sees_own_and_reports_records(api_client, org):
    seen = _listed(api_client(TENANT_A, "staff"))

    assert seen == {str(org[name].pk) for name in ("staff", "report", "below")}


def test_employee_without_reports_sees_only_their_own(api_client, org):
    with in_tenant(TENANT_A):
        Employee.objects.filter(employee_number="P-1").update(user=persona(TENANT_A, "outsider"))
        persona(TENANT_A, "outsider").roles.add(
            *persona(TENANT_A, "staff").roles.all()
        )  # a plain staff member

    seen = _listed(api_client(TENANT_A, "outsider"))

    assert seen == {str(org["peer"].pk)}


def test_hr_admin_sees_everything(api_client, org):
    assert _listed(api_client(TENANT_A, "admin")) == {str(r.pk) for r in org.values()}


def test_detail_outside_the_scope_is_404(api_client, org):
    response = api_client(TENANT_A, "staff").get(f"/api/v1/hr/attendance/{org['peer'].pk}/")

    _assert_error(response, 404, "not_found")


def test_list_filters(api_client, org):
    client = api_client(TENANT_A, "admin")

    assert _listed(client, approval="pending") == {str(org["below"].pk)}
    assert _listed(client, employee=str(org["staff"].employee_id)) == {str(org["staff"].pk)}
    assert _listed(client, date_from="2026-06-16") == set()
    assert _listed(client, needs_review="false", state="open") == {str(r.pk) for r in org.values()}
    response = client.get("/api/v1/hr/attendance/", {"state": "nearly"})
    _assert_error(response, 400, "validation_error")


def test_other_tenant_never_sees_records(api_client, org):
    with in_tenant(TENANT_B):
        assert not AttendanceRecord.objects.exists()
    response = api_client(TENANT_A, "staff", host="beta.localhost").get("/api/v1/hr/attendance/")

    assert response.status_code in (401, 404)


# --- approvals and corrections -------------------------------------------------------------


def test_manager_approves_through_the_api(api_client, org):
    give_role_in_a("staff", "manager")

    response = api_client(TENANT_A, "staff").post(
        f"/api/v1/hr/attendance/{org['below'].pk}/approve/"
    )

    assert response.status_code == 200, response.content
    assert response.json()["approval"] == "approved"


def test_approving_without_the_permission_is_403(api_client, org):
    response = api_client(TENANT_A, "staff").post(
        f"/api/v1/hr/attendance/{org['below'].pk}/reject/"
    )

    _assert_error(response, 403, "permission_denied")
    with in_tenant(TENANT_A):
        assert AttendanceRecord.objects.get(pk=org["below"].pk).approval == "pending"


def test_approving_own_record_is_403(api_client, org):
    give_role_in_a("staff", "manager")
    _record_pending = org["staff"]
    with in_tenant(TENANT_A):
        AttendanceRecord.objects.filter(pk=_record_pending.pk).update(approval="pending")

    response = api_client(TENANT_A, "staff").post(
        f"/api/v1/hr/attendance/{_record_pending.pk}/approve/"
    )

    _assert_error(response, 403, "hr.not_manager_of_employee")


def test_correction_through_the_api_and_listed(api_client, org):
    give_role_in_a("staff", "manager")
    client = api_client(TENANT_A, "staff")
    path = f"/api/v1/hr/attendance/{org['report'].pk}/corrections/"

    response = client.post(
        path,
        {
            "check_in_at": "2026-06-15T09:00:00+01:00",
            "check_out_at": "2026-06-15T17:00:00+01:00",
            "reason": "Badge reader was down.",
        },
        format="json",
    )
    listed = client.get(path)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["previous_check_in_at"] == "2026-06-15T08:00:00Z"
    assert body["previous_check_out_at"] is None
    assert body["corrected_by_username"] == "staff"
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]
    record = client.get(f"/api/v1/hr/attendance/{org['report'].pk}/").json()
    assert record["state"] == "closed"
    assert record["punched_in_at"] == "2026-06-15T08:00:00Z"
    assert record["worked_minutes"] == 480


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"check_in_at": "2026-06-15T09:00:00"}, "check_in_at"),
        ({"check_in_at": "yesterday"}, "check_in_at"),
        ({"reason": ""}, "reason"),
        ({"check_out_at": "2026-06-15T07:00:00Z"}, "check_out_at"),
    ],
)
def test_bad_correction_is_400_and_changes_nothing(api_client, org, change, field):
    give_role_in_a("staff", "manager")
    body = {
        "check_in_at": "2026-06-15T08:00:00Z",
        "check_out_at": "2026-06-15T16:00:00Z",
        "reason": "x",
        **change,
    }
    before = _records()

    response = api_client(TENANT_A, "staff").post(
        f"/api/v1/hr/attendance/{org['report'].pk}/corrections/", body, format="json"
    )

    error = _assert_error(response, 400, "validation_error")
    assert field in error["fields"]
    assert _records() == before
    with in_tenant(TENANT_A):
        assert not AttendanceCorrection.objects.exists()


def give_role_in_a(name: str, slug: str) -> None:
    with in_tenant(TENANT_A):
        give_role(name, slug)


# --- shifts, roster, policy ----------------------------------------------------------------


def test_shift_crud(api_client, in_tenant_a):
    client = api_client(TENANT_A, "admin")

    created = client.post(
        "/api/v1/hr/shifts/",
        {"name": "Night", "start_time": "22:00", "end_time": "06:00", "break_minutes": 30},
        format="json",
    )
    shift_id = created.json()["id"]
    patched = client.patch(f"/api/v1/hr/shifts/{shift_id}/", {"grace_minutes": 10}, format="json")
    deleted = client.delete(f"/api/v1/hr/shifts/{shift_id}/")

    assert created.status_code == 201, created.content
    assert created.json()["crosses_midnight"] is True
    assert created.json()["start_time"] == "22:00"
    assert patched.json()["grace_minutes"] == 10
    assert deleted.status_code == 204
    assert not ShiftTemplate.objects.exists()


def test_shift_time_with_offset_is_400(api_client):
    response = api_client(TENANT_A, "admin").post(
        "/api/v1/hr/shifts/",
        {"name": "Day", "start_time": "09:00+01:00", "end_time": "17:00"},
        format="json",
    )

    error = _assert_error(response, 400, "validation_error")
    assert "start_time" in error["fields"]


def test_assignment_and_roster(api_client, staff):
    with in_tenant(TENANT_A):
        night = shift("Night", time(22), time(6))
    client = api_client(TENANT_A, "admin")

    created = client.post(
        "/api/v1/hr/shift-assignments/",
        {
            "employee": str(staff.pk),
            "shift": str(night.pk),
            "weekdays": [5],
            "valid_from": "2026-03-01",
        },
        format="json",
    )
    roster = client.get(
        "/api/v1/hr/roster/",
        {"date_from": "2026-03-27", "date_to": "2026-03-29", "employee": str(staff.pk)},
    )

    assert created.status_code == 201, created.content
    assert created.json()["employee_name"] == "F S-1"
    assert roster.status_code == 200, roster.content
    [row] = roster.json()["results"]
    assert row["time_zone"] == "Europe/London"
    assert row["days"] == [
        {
            "date": "2026-03-28",
            "shift": str(night.pk),
            "shift_name": "Night",
            "start_at": "2026-03-28T22:00:00Z",
            "end_at": "2026-03-29T05:00:00Z",
        }
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-01-01", "date_to": "2026-03-31"}, "date_to"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ({"date_from": "9999-12-31"}, "date_from"),
        ({"date_from": "tomorrow"}, "date_from"),
        ({"employee": "nobody"}, "employee"),
        ({"employee": ""}, "employee"),
        ({"date_from": ""}, "date_from"),
    ],
)
def test_bad_roster_range_is_400(api_client, params, field):
    response = api_client(TENANT_A, "admin").get("/api/v1/hr/roster/", params)

    error = _assert_error(response, 400, "validation_error")
    assert field in error["fields"]


def test_staff_sees_only_their_roster(api_client, staff):
    other = _employee("O-1")
    with in_tenant(TENANT_A):
        day = shift("Day", time(9), time(17))
        assign(staff, day)
        assign(other, day)

    response = api_client(TENANT_A, "staff").get("/api/v1/hr/roster/")

    assert [row["employee"] for row in response.json()["results"]] == [str(staff.pk)]


def test_policy_read_and_change(api_client, in_tenant_a):
    read = api_client(TENANT_A, "staff").get("/api/v1/hr/policy/")
    changed = api_client(TENANT_A, "admin").patch(
        "/api/v1/hr/policy/",
        {"max_accuracy_m": 50, "standard_day_hours": 7.5},
        format="json",
    )
    refused = api_client(TENANT_A, "staff").patch(
        "/api/v1/hr/policy/", {"max_accuracy_m": 5000}, format="json"
    )

    assert read.status_code == 200
    assert read.json()["outside_geofence"] == "refuse"
    assert changed.status_code == 200, changed.content
    assert changed.json()["standard_day_hours"] == "7.50"
    _assert_error(refused, 403, "permission_denied")
    assert HrPolicy.objects.get().max_accuracy_m == 50


@pytest.mark.parametrize(
    "body",
    [
        {"max_accuracy_m": "50"},
        {"max_accuracy_m": 10**12},
        {"standard_day_hours": 99.999},
        {"overtime_multiplier": 0.5},
        {"outside_geofence": "maybe"},
    ],
)
def test_bad_policy_is_400(api_client, in_tenant_a, body):
    response = api_client(TENANT_A, "admin").patch("/api/v1/hr/policy/", body, format="json")

    _assert_error(response, 400, "validation_error")
    assert HrPolicy.objects.filter(max_accuracy_m=200, outside_geofence="refuse").exists() or (
        not HrPolicy.objects.exists()
    )


def test_routes_are_404_for_a_tenant_without_hr(api_client):
    response = api_client(TENANT_B, "admin").post(CHECK_IN, AT_LONDON, format="json")

    _assert_error(response, 404, "not_found")
