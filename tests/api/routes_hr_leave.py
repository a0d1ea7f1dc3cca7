"""Cross-tenant specs for the leave routes of /api/v1/hr/ (merged into tests.api.routes).

Rows are made with the ORM in B's schema (test_cross_tenant switches B's hr module on).
Each maker's marker is a value of the row that any representation of it would show.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.utils import timezone

from tests.api.routes import Spec


def _marker(kind: str) -> str:
    return f"xt-{kind}-{uuid.uuid4().hex[:8]}"


def _employee(marker: str):
    from apps.hr.models import Employee

    return Employee.objects.create(
        employee_number=marker[-12:],
        first_name=marker,
        last_name="Crosstenant",
        employment_start=date(2024, 1, 1),
    )


def _make_leave_type() -> tuple[dict, str]:
    from apps.hr.models import LeaveType

    marker = _marker("leavetype")
    leave_type = LeaveType.objects.create(code=marker, name=marker)
    return {"leave_type_id": leave_type.pk}, marker


def _leave_type_intact(marker: str) -> bool:
    from apps.hr.models import LeaveType

    return LeaveType.objects.filter(code=marker, name=marker, is_active=True).exists()


def _make_accrual_policy() -> tuple[dict, str]:
    from apps.hr.models import AccrualPolicy

    kwargs, marker = _make_leave_type()
    AccrualPolicy.objects.create(
        leave_type_id=kwargs["leave_type_id"], frequency="monthly", days_per_period=Decimal("1.5")
    )
    return kwargs, marker


def _accrual_policy_intact(marker: str) -> bool:
    from apps.hr.models import AccrualPolicy

    return AccrualPolicy.objects.filter(
        leave_type__code=marker, frequency="monthly", days_per_period=Decimal("1.5")
    ).exists()


def _make_tenant_holiday() -> tuple[dict, str]:
    from apps.hr.models import TenantHoliday

    marker = _marker("holiday")
    # In the current year, so the combined holiday list (which defaults to it) shows it.
    year = timezone.localdate().year
    day = date(year, 1, 1).toordinal() + uuid.uuid4().int % 365
    holiday = TenantHoliday.objects.create(date=date.fromordinal(day), name=marker)
    return {"holiday_id": holiday.pk}, marker


def _tenant_holiday_intact(marker: str) -> bool:
    from apps.hr.models import TenantHoliday

    return TenantHoliday.objects.filter(name=marker).exists()


def _make_leave_request() -> tuple[dict, str]:
    from apps.hr.models import LeaveRequest, LeaveType

    marker = _marker("leave")
    leave_type = LeaveType.objects.create(code=marker, name=marker, tracks_balance=False)
    leave = LeaveRequest.objects.create(
        employee=_employee(marker),
        leave_type=leave_type,
        starts_on=date(2025, 3, 3),
        ends_on=date(2025, 3, 4),
        days=Decimal(2),
        reason=marker,
        status="pending",
    )
    return {"leave_request_id": leave.pk}, marker


def _leave_request_intact(marker: str) -> bool:
    from apps.hr.models import LeaveRequest

    return LeaveRequest.objects.filter(
        reason=marker, status="pending", days=2, ends_on=date(2025, 3, 4), decided_by=None
    ).exists()


def _make_employee() -> tuple[dict, str]:
    marker = _marker("leaveemployee")
    return {"employee_id": _employee(marker).pk}, marker


def _employee_intact(marker: str) -> bool:
    from apps.hr.models import Employee

    return Employee.objects.filter(first_name=marker, last_name="Crosstenant").exists()


def _make_ledger_entry() -> tuple[dict, str]:
    from apps.hr.models import LeaveLedgerEntry, LeaveType

    marker = _marker("ledger")
    LeaveLedgerEntry.objects.create(
        employee=_employee(marker),
        leave_type=LeaveType.objects.create(code=marker, name=marker),
        kind="adjustment",
        days=Decimal(3),
        effective_on=date(2025, 1, 1),
        note=marker,
    )
    return {}, marker


def _ledger_entry_intact(marker: str) -> bool:
    from apps.hr.models import LeaveLedgerEntry

    return LeaveLedgerEntry.objects.filter(note=marker, days=3).exists()


_REQUEST = {"make": _make_leave_request, "intact": _leave_request_intact}

ROUTES: dict[str, Spec] = {
    "api/v1/hr/leave-types/": Spec(make=_make_leave_type, intact=_leave_type_intact),
    "api/v1/hr/leave-types/<uuid:leave_type_id>/": Spec(
        make=_make_leave_type, write_body={"name": "taken over"}, intact=_leave_type_intact
    ),
    "api/v1/hr/leave-types/<uuid:leave_type_id>/accrual-policy/": Spec(
        make=_make_accrual_policy,
        write_body={"frequency": "yearly", "days_per_period": "30"},
        intact=_accrual_policy_intact,
    ),
    "api/v1/hr/holidays/": Spec(make=_make_tenant_holiday, intact=_tenant_holiday_intact),
    "api/v1/hr/tenant-holidays/": Spec(make=_make_tenant_holiday, intact=_tenant_holiday_intact),
    "api/v1/hr/tenant-holidays/<uuid:holiday_id>/": Spec(
        make=_make_tenant_holiday, write_body={"name": "taken over"}, intact=_tenant_holiday_intact
    ),
    "api/v1/hr/leave-requests/": Spec(**_REQUEST),
    "api/v1/hr/leave-requests/<uuid:leave_request_id>/": Spec(
        write_body={"reason": "taken over"}, **_REQUEST
    ),
    "api/v1/hr/leave-requests/<uuid:leave_request_id>/submit/": Spec(**_REQUEST),
    "api/v1/hr/leave-requests/<uuid:leave_request_id>/approve/": Spec(
        write_body={"note": "taken over"}, **_REQUEST
    ),
    "api/v1/hr/leave-requests/<uuid:leave_request_id>/reject/": Spec(
        write_body={"note": "taken over"}, **_REQUEST
    ),
    "api/v1/hr/leave-requests/<uuid:leave_request_id>/cancel/": Spec(**_REQUEST),
    "api/v1/hr/leave-approvals/": Spec(**_REQUEST),
    "api/v1/hr/employees/me/leave-balances/": Spec(make=None),
    "api/v1/hr/employees/<uuid:employee_id>/leave-balances/": Spec(
        make=_make_employee, intact=_employee_intact
    ),
    "api/v1/hr/leave-ledger/": Spec(make=_make_ledger_entry, intact=_ledger_entry_intact),
    "api/v1/hr/leave-adjustments/": Spec(make=None),
}
