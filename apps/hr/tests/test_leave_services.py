"""Leave services: day counts, the state machine, balances, the ledger, notifications."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.core.errors import PermissionDeniedError
from apps.hr.errors import (
    InsufficientBalanceError,
    LeaveInvalidTransitionError,
    LeaveNoWorkingDaysError,
    LeaveOverlapsError,
    LeaveSelfApprovalError,
    NoEmployeeRecordError,
)
from apps.hr.models import HrPolicy, LeaveLedgerEntry, LeaveRequest, TenantHoliday
from apps.hr.selectors import leave as selectors
from apps.hr.selectors.policy import hr_policy_get
from apps.hr.services import leave as services
from apps.hr.tests.test_leave_support import WEEK_FRI, WEEK_MON, build_org, grant, monday_ahead
from apps.notifications.models import Delivery, InAppNotification

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(in_tenant_a):
    return build_org()


def _request(org, *, starts_on=WEEK_MON, ends_on=WEEK_FRI, leave_type=None, submit=True, **kw):
    return services.leave_request_create(
        actor=org.actor("staff"),
        leave_type_id=(leave_type or org.annual).pk,
        starts_on=starts_on,
        ends_on=ends_on,
        submit=submit,
        **kw,
    )


def _snapshot(leave: LeaveRequest) -> tuple:
    leave = LeaveRequest.objects.get(pk=leave.pk)
    ledger = list(LeaveLedgerEntry.objects.filter(leave_request=leave).values_list("kind", "days"))
    return leave.status, leave.days, leave.decided_by_id, leave.cancelled_at, ledger


# --- day counts ----------------------------------------------------------------------------


def test_days_skip_weekends(in_tenant_a):
    assert services.leave_days_count(starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 16)) == 10


def test_days_skip_gb_christmas_and_observed_boxing_day(in_tenant_a):
    hr_policy_get()
    HrPolicy.objects.update(holiday_country="GB", holiday_subdivision="")

    # Mon 21 Dec .. Fri 1 Jan 2027: Christmas (Fri), Boxing Day observed (Mon 28),
    # New Year's Day (Fri 1 Jan) are off: 10 weekdays - 3.
    days = services.leave_days_count(starts_on=date(2026, 12, 21), ends_on=date(2027, 1, 1))

    assert days == 7


def test_days_skip_tenant_holidays(in_tenant_a):
    TenantHoliday.objects.create(date=WEEK_MON + timedelta(days=2), name="Founders' day")

    assert services.leave_days_count(starts_on=WEEK_MON, ends_on=WEEK_FRI) == 4


def test_days_follow_the_policy_weekend(in_tenant_a):
    hr_policy_get()
    HrPolicy.objects.update(weekend_days=[4, 5])  # Friday and Saturday

    assert services.leave_days_count(starts_on=WEEK_MON, ends_on=WEEK_FRI + timedelta(2)) == 5


def test_half_days_count_half(in_tenant_a):
    assert (
        services.leave_days_count(
            starts_on=WEEK_MON, ends_on=WEEK_FRI, start_half=True, end_half=True
        )
        == 4
    )
    assert services.leave_days_count(starts_on=WEEK_MON, ends_on=WEEK_MON, end_half=True) == (
        Decimal("0.5")
    )


def test_submit_fixes_days_with_holidays_and_half_days(org):
    TenantHoliday.objects.create(date=WEEK_MON + timedelta(days=1), name="Tenant day")
    grant(org.me, org.annual, "10")

    leave = _request(org, start_half=True)

    assert leave.status == "pending"
    assert leave.days == Decimal("3.5")


def test_half_days_refused_where_the_type_does_not_allow_them(org):
    org.annual.allows_half_days = False
    org.annual.save()

    with pytest.raises(ValidationError) as raised:
        _request(org, end_half=True, submit=False)

    assert list(raised.value.message_dict) == ["end_half"]
    assert not LeaveRequest.objects.exists()


def test_leave_of_no_working_day_is_refused(org):
    saturday = WEEK_FRI + timedelta(days=1)

    with pytest.raises(LeaveNoWorkingDaysError):
        _request(org, starts_on=saturday, ends_on=saturday + timedelta(days=1))

    assert not LeaveRequest.objects.exists()


def test_leave_ending_before_it_starts_is_refused(org):
    with pytest.raises(ValidationError) as raised:
        _request(org, starts_on=WEEK_FRI, ends_on=WEEK_MON, submit=False)

    assert "ends_on" in raised.value.message_dict
    assert not LeaveRequest.objects.exists()


def test_leave_before_employment_start_is_refused(org):
    with pytest.raises(ValidationError) as raised:
        _request(org, starts_on=date(2023, 12, 28), ends_on=date(2024, 1, 3), submit=False)

    assert "starts_on" in raised.value.message_dict


# --- who may file, decide, cancel -----------------------------------------------------------


def test_a_user_without_employee_record_cannot_file_for_themselves(org):
    with pytest.raises(NoEmployeeRecordError):
        services.leave_request_create(
            actor=org.actor("outsider"),
            leave_type_id=org.unpaid.pk,
            starts_on=WEEK_MON,
            ends_on=WEEK_FRI,
        )


def test_hr_admin_may_file_for_anyone_but_a_manager_may_not(org):
    leave = services.leave_request_create(
        actor=org.actor("admin"),
        employee_id=org.me.pk,
        leave_type_id=org.unpaid.pk,
        starts_on=WEEK_MON,
        ends_on=WEEK_FRI,
    )
    assert leave.employee == org.me

    with pytest.raises(PermissionDeniedError):
        services.leave_request_create(
            actor=org.actor("boss"),
            employee_id=org.me.pk,
            leave_type_id=org.unpaid.pk,
            starts_on=WEEK_MON + timedelta(weeks=1),
            ends_on=WEEK_FRI + timedelta(weeks=1),
        )
    with pytest.raises(ValidationError):
        services.leave_request_create(
            actor=org.actor("peer"),
            employee_id=org.me.pk,
            leave_type_id=org.unpaid.pk,
            starts_on=WEEK_MON + timedelta(weeks=2),
            ends_on=WEEK_FRI + timedelta(weeks=2),
        )


@pytest.mark.parametrize("approver", ["boss", "bigboss", "admin"])
def test_managers_above_and_hr_admins_approve(org, approver):
    leave = _request(org, leave_type=org.unpaid)

    approved = services.leave_request_approve(actor=org.actor(approver), leave=leave, note="ok")

    assert approved.status == "approved"
    assert approved.decision_note == "ok"
    assert approved.decided_by.username == approver


@pytest.mark.parametrize(
    ("approver", "error"),
    [("peer", PermissionDeniedError), ("staff", LeaveSelfApprovalError)],
)
def test_others_and_the_employee_cannot_approve(org, approver, error):
    leave = _request(org, leave_type=org.unpaid)
    before = _snapshot(leave)

    with pytest.raises(error):
        services.leave_request_approve(actor=org.actor(approver), leave=leave)
    with pytest.raises(error):
        services.leave_request_reject(actor=org.actor(approver), leave=leave)

    assert _snapshot(leave) == before


def test_manager_without_approve_permission_cannot_decide(org):
    from apps.accounts.models import Role

    org.boss.user.roles.set(Role.objects.filter(slug="staff"))
    leave = _request(org, leave_type=org.unpaid)

    with pytest.raises(PermissionDeniedError):
        services.leave_request_approve(actor=org.actor("boss"), leave=leave)


def test_hr_admin_cannot_approve_their_own_leave(org):
    from tests.fixtures import persona
    from tests.personas import TENANT_A

    org.peer.user = persona(TENANT_A, "admin")
    org.peer.save()
    leave = services.leave_request_create(
        actor=org.actor("admin"),
        leave_type_id=org.unpaid.pk,
        starts_on=WEEK_MON,
        ends_on=WEEK_FRI,
        submit=True,
    )

    with pytest.raises(LeaveSelfApprovalError):
        services.leave_request_approve(actor=org.actor("admin"), leave=leave)


def test_someone_else_cannot_cancel(org):
    leave = _request(org, leave_type=org.unpaid)

    with pytest.raises(PermissionDeniedError):
        services.leave_request_cancel(actor=org.actor("boss"), leave=leave)

    assert LeaveRequest.objects.get(pk=leave.pk).status == "pending"


# --- the state machine ----------------------------------------------------------------------


def test_draft_update_then_submit(org):
    leave = _request(org, leave_type=org.unpaid, submit=False)
    assert leave.status == "draft"
    assert leave.days == 0

    leave = services.leave_request_update(
        actor=org.actor("staff"), leave=leave, data={"ends_on": WEEK_MON + timedelta(days=1)}
    )
    leave = services.leave_request_submit(actor=org.actor("staff"), leave=leave)

    assert leave.status == "pending"
    assert leave.days == 2
    assert leave.submitted_at is not None


def _in_status(org, status: str) -> LeaveRequest:
    leave = _request(org, leave_type=org.unpaid, submit=status != "draft")
    admin = org.actor("admin")
    if status == "approved":
        leave = services.leave_request_approve(actor=admin, leave=leave)
    elif status == "rejected":
        leave = services.leave_request_reject(actor=admin, leave=leave)
    elif status == "cancelled":
        leave = services.leave_request_cancel(actor=admin, leave=leave)
    return leave


REFUSED = [
    ("pending", "submit"),
    ("approved", "submit"),
    ("rejected", "submit"),
    ("cancelled", "submit"),
    ("draft", "approve"),
    ("approved", "approve"),
    ("rejected", "approve"),
    ("cancelled", "approve"),
    ("draft", "reject"),
    ("approved", "reject"),
    ("rejected", "reject"),
    ("cancelled", "reject"),
    ("rejected", "cancel"),
    ("cancelled", "cancel"),
    ("pending", "update"),
    ("approved", "update"),
]


@pytest.mark.parametrize(("status", "action"), REFUSED, ids=lambda value: value)
def test_refused_transitions_change_nothing(org, status, action):
    leave = _in_status(org, status)
    before = _snapshot(leave)
    admin = org.actor("admin")
    calls = {
        "submit": lambda: services.leave_request_submit(actor=admin, leave=leave),
        "approve": lambda: services.leave_request_approve(actor=admin, leave=leave),
        "reject": lambda: services.leave_request_reject(actor=admin, leave=leave),
        "cancel": lambda: services.leave_request_cancel(actor=admin, leave=leave),
        "update": lambda: services.leave_request_update(
            actor=admin, leave=leave, data={"reason": "changed"}
        ),
    }

    with pytest.raises(LeaveInvalidTransitionError):
        calls[action]()

    assert _snapshot(leave) == before


@pytest.mark.parametrize("status", ["draft", "pending"])
def test_employee_cancels_draft_and_pending(org, status):
    leave = _in_status(org, status)

    cancelled = services.leave_request_cancel(actor=org.actor("staff"), leave=leave)

    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    assert not LeaveLedgerEntry.objects.filter(leave_request=leave).exists()


def test_rejected_request_writes_no_ledger(org):
    grant(org.me, org.annual, "10")
    leave = _request(org)

    services.leave_request_reject(actor=org.actor("boss"), leave=leave, note="busy week")

    assert LeaveRequest.objects.get(pk=leave.pk).status == "rejected"
    assert not LeaveLedgerEntry.objects.filter(leave_request=leave).exists()


# --- balances and the ledger ----------------------------------------------------------------


def test_approval_writes_usage_and_balance_drops(org):
    grant(org.me, org.annual, "10")
    leave = _request(org)

    services.leave_request_approve(actor=org.actor("boss"), leave=leave)

    usage = LeaveLedgerEntry.objects.get(leave_request=leave)
    assert (usage.kind, usage.days) == ("usage", Decimal(-5))
    (balance,) = [
        row for row in selectors.leave_balance_list(employee=org.me) if row.leave_type == org.annual
    ]
    assert (balance.accrued, balance.used, balance.balance, balance.pending) == (10, 5, 5, 0)


def test_submit_refuses_more_than_available_counting_pending(org):
    grant(org.me, org.annual, "7")
    _request(org)  # 5 days pending

    with pytest.raises(InsufficientBalanceError) as raised:
        _request(
            org, starts_on=WEEK_MON + timedelta(weeks=1), ends_on=WEEK_FRI + timedelta(weeks=1)
        )

    assert raised.value.details["available"] == "2.00"
    assert LeaveRequest.objects.count() == 1


def test_balance_may_go_negative_where_the_type_allows_it(org):
    org.annual.allows_negative_balance = True
    org.annual.save()
    grant(org.me, org.annual, "2")

    leave = _request(org)
    services.leave_request_approve(actor=org.actor("boss"), leave=leave)

    assert selectors.leave_balance_days(employee=org.me, leave_type=org.annual) == -3


def test_approval_rechecks_the_balance(org):
    entry = grant(org.me, org.annual, "5")
    leave = _request(org)
    # The balance shrank after the submission (an adjustment, say).
    LeaveLedgerEntry.objects.filter(pk=entry.pk).update(days=Decimal(3))

    with pytest.raises(InsufficientBalanceError):
        services.leave_request_approve(actor=org.actor("boss"), leave=leave)

    assert LeaveRequest.objects.get(pk=leave.pk).status == "pending"
    assert not LeaveLedgerEntry.objects.filter(leave_request=leave).exists()


def test_cancelling_approved_future_leave_reverses_the_usage(org):
    grant(org.me, org.annual, "10")
    monday = monday_ahead()
    leave = _request(org, starts_on=monday, ends_on=monday + timedelta(days=1))
    services.leave_request_approve(actor=org.actor("boss"), leave=leave)

    services.leave_request_cancel(actor=org.actor("staff"), leave=leave)

    kinds = dict(LeaveLedgerEntry.objects.filter(leave_request=leave).values_list("kind", "days"))
    assert kinds == {"usage": Decimal(-2), "reversal": Decimal(2)}
    assert selectors.leave_balance_days(employee=org.me, leave_type=org.annual) == 10
    assert LeaveRequest.objects.get(pk=leave.pk).status == "cancelled"


def test_approved_leave_that_has_ended_cannot_be_cancelled(org):
    grant(org.me, org.annual, "10")
    leave = _request(org)  # March 2025: over
    services.leave_request_approve(actor=org.actor("boss"), leave=leave)

    with pytest.raises(LeaveInvalidTransitionError):
        services.leave_request_cancel(actor=org.actor("admin"), leave=leave)

    assert LeaveRequest.objects.get(pk=leave.pk).status == "approved"


def test_adjustment_by_hr_admin_with_a_note(org):
    grant(org.me, org.annual, "2")

    entry = services.leave_adjustment_create(
        actor=org.actor("admin"),
        employee_id=org.me.pk,
        leave_type_id=org.annual.pk,
        days=Decimal("1.5"),
        note="carried over",
    )

    assert entry.kind == "adjustment"
    assert selectors.leave_balance_days(employee=org.me, leave_type=org.annual) == Decimal("3.5")


def test_adjustment_cannot_take_a_balance_below_zero(org):
    grant(org.me, org.annual, "2")

    with pytest.raises(InsufficientBalanceError):
        services.leave_adjustment_create(
            actor=org.actor("admin"),
            employee_id=org.me.pk,
            leave_type_id=org.annual.pk,
            days=Decimal(-3),
            note="correction",
        )
    with pytest.raises(PermissionDeniedError):
        services.leave_adjustment_create(
            actor=org.actor("boss"),
            employee_id=org.me.pk,
            leave_type_id=org.annual.pk,
            days=Decimal(1),
            note="gift",
        )

    assert selectors.leave_balance_days(employee=org.me, leave_type=org.annual) == 2


# --- overlap --------------------------------------------------------------------------------


def test_overlapping_submission_is_refused_and_stores_nothing(org):
    first = _request(org, leave_type=org.unpaid)

    with pytest.raises(LeaveOverlapsError) as raised:
        _request(org, leave_type=org.unpaid, starts_on=WEEK_FRI, ends_on=WEEK_FRI + timedelta(3))

    assert raised.value.details["overlapping_id"] == str(first.pk)
    assert list(LeaveRequest.objects.values_list("pk", flat=True)) == [first.pk]


def test_rejected_and_cancelled_leave_do_not_block_the_dates(org):
    first = _request(org, leave_type=org.unpaid)
    services.leave_request_reject(actor=org.actor("boss"), leave=first)

    second = _request(org, leave_type=org.unpaid)

    assert second.status == "pending"


def test_the_database_refuses_overlap_without_the_service(org):
    values = {"employee": org.me, "leave_type": org.unpaid, "status": "approved"}
    LeaveRequest.objects.create(starts_on=WEEK_MON, ends_on=WEEK_FRI, **values)

    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        LeaveRequest.objects.create(starts_on=WEEK_FRI, ends_on=WEEK_FRI, **values)

    assert raised.value.__cause__.sqlstate == "23P01"
    # Drafts and other employees are free to overlap.
    LeaveRequest.objects.create(
        employee=org.me, leave_type=org.unpaid, starts_on=WEEK_MON, ends_on=WEEK_FRI
    )
    LeaveRequest.objects.create(
        employee=org.boss,
        leave_type=org.unpaid,
        starts_on=WEEK_MON,
        ends_on=WEEK_FRI,
        status="pending",
    )


def test_the_race_past_the_pre_check_becomes_leave_overlaps(org, monkeypatch):
    _request(org, leave_type=org.unpaid)
    # As if a concurrent request committed between the pre-check and the insert.
    monkeypatch.setattr(
        selectors, "leave_requests_overlapping", lambda **kw: LeaveRequest.objects.none()
    )

    with pytest.raises(LeaveOverlapsError):
        _request(org, leave_type=org.unpaid)

    assert LeaveRequest.objects.count() == 1


# --- notifications --------------------------------------------------------------------------


def test_submit_notifies_the_manager_in_app_and_by_email(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        leave = _request(org, leave_type=org.unpaid, reason="family")

    deliveries = Delivery.objects.filter(event="hr.leave_submitted")
    assert {(d.channel, d.user_id) for d in deliveries} == {
        ("in_app", org.boss.user_id),
        ("email", org.boss.user_id),
    }
    note = InAppNotification.objects.get(user=org.boss.user, event="hr.leave_submitted")
    assert org.me.full_name in note.title
    assert "family" in note.body
    assert str(leave.pk) in deliveries.first().dedupe_key


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_decision_notifies_the_employee(org, django_capture_on_commit_callbacks, decision):
    leave = _request(org, leave_type=org.unpaid)
    service = getattr(services, f"leave_request_{decision}")

    with django_capture_on_commit_callbacks(execute=True):
        service(actor=org.actor("boss"), leave=leave, note="see you")

    event = f"hr.leave_{decision}d" if decision == "approve" else "hr.leave_rejected"
    note = InAppNotification.objects.get(user=org.me.user, event=event)
    assert "see you" in note.body


def test_refusals_notify_nobody(org, django_capture_on_commit_callbacks):
    first = _request(org, leave_type=org.unpaid)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(LeaveOverlapsError):
            _request(org, leave_type=org.unpaid)
        with pytest.raises(PermissionDeniedError):
            services.leave_request_approve(actor=org.actor("peer"), leave=first)

    assert callbacks == []
    assert (
        not Delivery.objects.exclude(dedupe_key__contains=str(first.pk))
        .filter(event__startswith="hr.leave_")
        .exists()
    )
    assert not Delivery.objects.filter(event="hr.leave_approved").exists()


def test_without_a_manager_the_hr_admins_are_told(org, django_capture_on_commit_callbacks):
    org.me.manager = None
    org.me.save()

    with django_capture_on_commit_callbacks(execute=True):
        _request(org, leave_type=org.unpaid)

    users = set(
        Delivery.objects.filter(event="hr.leave_submitted").values_list("user__username", flat=True)
    )
    assert "admin" in users
    assert "staff" not in users


# --- accrual --------------------------------------------------------------------------------


def test_accrual_is_idempotent_and_respects_employment(org, make_employee):
    from apps.hr.models import AccrualPolicy

    AccrualPolicy.objects.create(leave_type=org.annual, frequency="monthly", days_per_period=2)
    make_employee("L-9", employment_start=date(2026, 4, 1))  # not started on the run day
    make_employee("L-10", employment_start=date(2020, 1, 1), employment_end=date(2026, 2, 28))
    on = date(2026, 3, 15)

    first = services.leave_accrue(on=on)
    second = services.leave_accrue(on=on)

    accruals = LeaveLedgerEntry.objects.filter(kind="accrual", period_key="2026-03")
    assert first == 4  # me, boss, big boss, peer
    assert second == 0
    assert accruals.count() == 4
    assert set(accruals.values_list("days", flat=True)) == {Decimal(2)}
    assert services.leave_accrue(on=date(2026, 4, 1)) == 5  # L-9 has started


def test_yearly_accrual_is_capped(org):
    from apps.hr.models import AccrualPolicy

    AccrualPolicy.objects.create(
        leave_type=org.annual, frequency="yearly", days_per_period=20, cap_days=25
    )
    grant(org.me, org.annual, "18")

    services.leave_accrue(on=date(2026, 1, 2))
    services.leave_accrue(on=date(2027, 1, 2))

    mine = LeaveLedgerEntry.objects.filter(employee=org.me, kind="accrual").exclude(
        period_key="test"
    )
    assert dict(mine.values_list("period_key", "days")) == {"2026": Decimal(7)}
    assert selectors.leave_balance_days(employee=org.me, leave_type=org.annual) == 25
    boss = LeaveLedgerEntry.objects.filter(employee=org.boss, kind="accrual")
    assert dict(boss.values_list("period_key", "days")) == {"2026": Decimal(20), "2027": Decimal(5)}


def test_accrual_task_runs_in_the_tenant(org):
    from apps.hr.models import AccrualPolicy
    from apps.hr.tasks.leave import leave_accrue
    from tests.personas import TENANT_A

    AccrualPolicy.objects.create(leave_type=org.annual, frequency="monthly", days_per_period=1)

    assert leave_accrue(schema_name=TENANT_A, on="2026-05-10") == 4
    assert leave_accrue(schema_name=TENANT_A, on="2026-05-11") == 0


def test_default_leave_types_only_for_a_tenant_without_any(in_tenant_a, make_employee):
    from apps.hr.models import LeaveType

    make_employee("L-1")

    assert services.leave_type_defaults_ensure(on=date(2026, 6, 1)) is True
    assert services.leave_type_defaults_ensure(on=date(2026, 6, 1)) is False
    assert set(LeaveType.objects.values_list("code", flat=True)) == {"annual", "sick", "unpaid"}
    assert LeaveLedgerEntry.objects.filter(kind="accrual", period_key="2026-06").count() == 1
