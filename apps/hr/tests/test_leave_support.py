"""Shared setup of the leave tests (no tests here): a small org chart in tenant A.

    big_boss (user "bigboss", role manager)
      └ boss (user "boss", role manager)
          └ me (the staff persona)
    peer (user "peer", role manager; nobody's manager in this chain)

The admin persona is the HR admin (tenant_admin: hr.access_all_employees) and has no
employee record. Dates: weeks far from today are fixed; leave that must still lie ahead
(cancelling approved leave) is placed relative to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.hr.tests.conftest import actor_of
from tests.personas import TENANT_A

# A plain Monday-to-Friday week (no GB holiday).
WEEK_MON = date(2025, 3, 3)
WEEK_FRI = date(2025, 3, 7)


def monday_ahead(weeks: int = 3) -> date:
    day = timezone.localdate() + timedelta(weeks=weeks)
    return day - timedelta(days=day.weekday())


@dataclass
class Org:
    me: Any
    boss: Any
    big_boss: Any
    peer: Any
    annual: Any
    unpaid: Any

    def actor(self, name: str) -> Any:
        return actor_of(TENANT_A, name)


def _manager_user(username: str) -> Any:
    from apps.accounts.models import Role, User

    user = User.objects.create_user(username=username, email=f"{username}@example.test")
    user.roles.set(Role.objects.filter(slug="manager"))
    return user


def build_org() -> Org:
    """The org chart above, in the current schema (tenant A), plus two leave types."""
    from apps.hr.models import Employee, LeaveType
    from tests.fixtures import persona

    def employee(number: str, **fields: Any) -> Employee:
        return Employee.objects.create(
            employee_number=number,
            first_name=f"First{number}",
            last_name=f"Last{number}",
            employment_start=date(2024, 1, 1),
            **fields,
        )

    big_boss = employee("L-1", user=_manager_user("bigboss"))
    boss = employee("L-2", manager=big_boss, user=_manager_user("boss"))
    me = employee("L-3", manager=boss, user=persona(TENANT_A, "staff"))
    peer = employee("L-4", user=_manager_user("peer"))
    annual = LeaveType.objects.create(code="annual-t", name="Annual (test)")
    unpaid = LeaveType.objects.create(
        code="unpaid-t", name="Unpaid (test)", is_paid=False, tracks_balance=False
    )
    return Org(me=me, boss=boss, big_boss=big_boss, peer=peer, annual=annual, unpaid=unpaid)


def grant(employee: Any, leave_type: Any, days: str, *, period_key: str = "test") -> Any:
    """Days on the ledger, as an accrual would post them."""
    from apps.hr.models import LeaveLedgerEntry

    return LeaveLedgerEntry.objects.create(
        employee=employee,
        leave_type=leave_type,
        kind="accrual",
        days=Decimal(days),
        effective_on=date(2025, 1, 1),
        period_key=period_key,
    )
