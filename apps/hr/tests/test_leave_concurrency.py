"""Overlapping leave submitted at the same moment: exactly one passes.

Two threads, each with its own database connection, meet at a barrier and submit
overlapping requests of one employee. Each runs in its own committed transaction, as
two web requests would; a check made only in Python would let both through.

These tests need committed rows (the threads' connections cannot see the test's own
transaction), so they write with committed access and remove what they wrote.
``django_db(transaction=True)`` is not used: its teardown truncates every table of the
connection's schema, which here is public (the session's tenants and domains, see
tests/jobs/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from typing import Any

import pytest
from django.db import DatabaseError
from django.utils import timezone

from apps.core.tenancy import in_tenant
from apps.hr.errors import LeaveOverlapsError
from apps.hr.tests.conftest import actor_of
from tests.concurrency import race
from tests.personas import TENANT_A

MONDAY = date(2025, 6, 2)
FRIDAY = date(2025, 6, 6)


@pytest.fixture
def db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Committed access instead of pytest-django's rolled-back transaction. Named ``db``
    on purpose: pytest-django only sets up the test database for a run whose tests ask
    for a fixture of that name (as in tests/realtime/conftest.py)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def committed(db) -> Iterator[dict[str, Any]]:
    """An employee and two leave types in tenant A, committed; everything the test
    leaves behind in those rows' wake is deleted afterwards."""
    from auditlog.models import LogEntry

    from apps.hr.models import Employee, LeaveLedgerEntry, LeaveRequest, LeaveType

    with in_tenant(TENANT_A):
        started = timezone.now()
        employee = Employee.objects.create(
            employee_number="RACE-1",
            first_name="Race",
            last_name="Condition",
            employment_start=date(2024, 1, 1),
        )
        annual = LeaveType.objects.create(
            code="race-annual", name="Race annual", allows_negative_balance=True
        )
        unpaid = LeaveType.objects.create(
            code="race-unpaid", name="Race unpaid", tracks_balance=False
        )
        try:
            yield {"employee": employee, "annual": annual, "unpaid": unpaid}
        finally:
            with in_tenant(TENANT_A):
                LeaveLedgerEntry.objects.filter(employee=employee).delete()
                LeaveRequest.objects.filter(employee=employee).delete()
                LeaveType.objects.filter(pk__in=[annual.pk, unpaid.pk]).delete()
                Employee.all_objects.filter(pk=employee.pk).delete()
                LogEntry.objects.filter(timestamp__gte=started).delete()


_race = partial(race, schema_name=TENANT_A)


def test_concurrent_overlapping_submissions_let_exactly_one_through(committed, monkeypatch):
    from apps.hr.models import LeaveRequest
    from apps.hr.services import leave as services

    # The HR admins would be notified (the employee has no manager); not this test's point.
    monkeypatch.setattr(services, "_notify_after_commit", lambda **kwargs: None)
    employee = committed["employee"]
    with in_tenant(TENANT_A):
        actor = actor_of(TENANT_A, "admin")

    def submit(leave_type: Any) -> Callable[[], Any]:
        # Two different types: no shared balance lock, so only the database arbitrates.
        return lambda: services.leave_request_create(
            actor=actor,
            employee_id=employee.pk,
            leave_type_id=leave_type.pk,
            starts_on=MONDAY,
            ends_on=FRIDAY,
            submit=True,
        )

    results = _race(submit(committed["annual"]), submit(committed["unpaid"]))

    passed = [result for result in results if isinstance(result, LeaveRequest)]
    refused = [result for result in results if isinstance(result, LeaveOverlapsError)]
    assert len(passed) == 1, results
    assert len(refused) == 1, results
    with in_tenant(TENANT_A):
        stored = list(LeaveRequest.objects.filter(employee=employee))
    # The refused submission's draft went with its transaction.
    assert [(row.pk, row.status) for row in stored] == [(passed[0].pk, "pending")]


def test_concurrent_inserts_past_the_service_are_refused_by_the_database(committed):
    from apps.hr.models import LeaveRequest

    employee = committed["employee"]

    def insert(leave_type: Any) -> Callable[[], Any]:
        return lambda: LeaveRequest.objects.create(
            employee=employee,
            leave_type=leave_type,
            starts_on=MONDAY,
            ends_on=FRIDAY,
            status="approved",
        )

    results = _race(insert(committed["annual"]), insert(committed["unpaid"]))

    errors = [result for result in results if isinstance(result, DatabaseError)]
    assert len(errors) == 1, results
    # The exclusion violation, or (when each insert waited for the other's index entry)
    # the deadlock PostgreSQL resolves by aborting one of them: refused either way.
    assert errors[0].__cause__.sqlstate in ("23P01", "40P01")
    with in_tenant(TENANT_A):
        assert LeaveRequest.objects.filter(employee=employee).count() == 1
