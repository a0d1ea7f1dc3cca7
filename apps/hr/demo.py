"""Demo HR data for the staffco demo tenant (``manage.py seed_hr_demo``): departments,
two offices in two time zones, ~50 employees, a day and a night shift, a month of
attendance, leave types with balances and some leave, and a salary structure, so that
check-in, leave approval and a payroll run can be tried at once.

Deterministic and idempotent: rows are keyed by name or employee number, and the
time-based parts (attendance, leave, salaries) are only seeded into a tenant that has none
yet, so running it again changes nothing and adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.accounts.selectors import actor_for_user
from apps.core.tenancy import in_tenant
from apps.core.types import Actor
from apps.hr import calendar, timecalc
from apps.hr.models import (
    AttendanceRecord,
    Department,
    Employee,
    HrPolicy,
    LeaveRequest,
    LeaveType,
    Position,
    SalaryStructure,
    ShiftAssignment,
    ShiftTemplate,
    WorkLocation,
)
from apps.hr.phone import phone_normalize
from apps.hr.selectors.policy import hr_policy_get
from apps.hr.services import leave as leave_services
from apps.hr.services import payroll as payroll_services

DEMO_PASSWORD = "tenantry-demo"  # noqa: S105 - published demo credentials
EMPLOYEE_COUNT = 50

DEPARTMENTS = [
    ("Head Office", None),
    ("Operations", "Head Office"),
    ("Engineering", "Head Office"),
    ("Sales", "Head Office"),
    ("People", "Head Office"),
]
POSITIONS = ["Managing Director", "Team Lead", "Specialist", "Associate"]
LOCATIONS = [
    # name, address, latitude, longitude, radius in metres, time zone
    (
        "New York office",
        "350 5th Ave, New York",
        "40.748400",
        "-73.985700",
        150,
        "America/New_York",
    ),
    ("London office", "1 Poultry, London", "51.513600", "-0.090300", 120, "Europe/London"),
]
FIRST_NAMES = [
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Harper", "Rowan", "Elliot", "Skyler", "Dakota", "Reese", "Emerson", "Finley", "Hayden",
    "Kendall", "Logan", "Parker", "Sawyer", "Blake", "Drew",
]  # fmt: skip
LAST_NAMES = ["Smith", "Patel", "Garcia", "Okafor", "Nguyen", "Kowalski", "Rossi", "Berg", "Lee"]
# Team leads (by employee number) and the department and office of their team.
TEAMS = [
    ("E002", "Operations", 0),
    ("E003", "Engineering", 1),
    ("E004", "Sales", 0),
    ("E005", "People", 1),
]
# Demo logins: username -> (employee number, role).
DEMO_USERS = {"manager": ("E002", "manager"), "employee": ("E009", "staff")}
# name, start, end, break and grace minutes; the night shift crosses midnight.
SHIFTS = [
    ("Day", time(9, 0), time(17, 30), 30, 5),
    ("Night", time(22, 0), time(6, 0), 30, 10),
]
MONTHLY_BASE_PAY = {
    "Managing Director": Decimal(9000),
    "Team Lead": Decimal(5500),
    "Specialist": Decimal(4200),
    "Associate": Decimal("3100.50"),
}
# code, name, kind, calculation fields.
SALARY_COMPONENTS = [
    ("housing", "Housing allowance", "earning", {"calculation": "fixed", "amount": Decimal(300)}),
    (
        "pension",
        "Pension (5%)",
        "deduction",
        # On the pay actually earned: the daily rate times the days paid (after absences
        # and unpaid leave), not the contractual base.
        {"calculation": "formula", "formula": "round(daily_rate * days_payable * 0.05, 2)"},
    ),
    (
        "income_tax",
        "Income tax (flat 20% above 1,000)",
        "deduction",
        {
            "calculation": "formula",
            "formula": "max(0, (daily_rate * days_payable + housing - pension - 1000) * 0.2)",
        },
    ),
]


@dataclass(frozen=True)
class HrDemoResult:
    created: int
    employees: int


def _phone(office: int, index: int) -> str:
    # Numbers from the ranges reserved for fiction (555-01xx, Ofcom's 020 7946 0xxx).
    raw = f"+1 212 555 01{index % 100:02d}" if office == 0 else f"+44 20 7946 0{index % 1000:03d}"
    return phone_normalize(raw)


def _spread(*parts: object) -> int:
    """A stable pseudo-random number 0..999 for these parts (same input, same demo)."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 1000


def _seed_policy_and_shifts(employees: list[Employee]) -> int:
    created = 0
    policy = hr_policy_get()
    if policy.outside_geofence != HrPolicy.OutsideGeofence.NEEDS_APPROVAL:
        # A developer trying the check-in page is not in the demo offices: accept the punch
        # for a manager's approval instead of refusing it.
        policy.outside_geofence = HrPolicy.OutsideGeofence.NEEDS_APPROVAL
        policy.holiday_country = "US"
        policy.currency = "USD"
        policy.save(update_fields=["outside_geofence", "holiday_country", "currency"])
    shifts = {}
    for name, start, end, break_minutes, grace_minutes in SHIFTS:
        shifts[name], is_new = ShiftTemplate.objects.get_or_create(
            name=name,
            defaults={
                "start_time": start,
                "end_time": end,
                "break_minutes": break_minutes,
                "grace_minutes": grace_minutes,
            },
        )
        created += is_new
    for employee in employees:
        # Every seventh person works nights, the rest days, Monday to Friday.
        night = int(employee.employee_number[1:]) % 7 == 0
        _, is_new = ShiftAssignment.objects.get_or_create(
            employee=employee,
            valid_from=employee.employment_start,
            defaults={"shift": shifts["Night" if night else "Day"], "weekdays": [0, 1, 2, 3, 4]},
        )
        created += is_new
    return created


def _attendance_start(today: date) -> date:
    """The first day of last month: a whole month to run payroll on, and this one so far."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _seed_attendance(employees: list[Employee], *, today: date) -> int:
    """Closed punches from the first of last month up to yesterday, computed by the same
    timecalc as live punches; a few days are missed (absences) and some people arrive late
    or stay on."""
    if AttendanceRecord.objects.exists():
        return 0
    policy = hr_policy_get()
    first_day = _attendance_start(today)
    holidays_by_year = {
        year: calendar.public_holidays(country=policy.holiday_country, year=year)
        for year in {today.year, first_day.year}
    }
    assignments = {a.employee_id: a for a in ShiftAssignment.objects.select_related("shift")}
    on_leave = {
        (leave.employee_id, leave.starts_on + timedelta(days=offset))
        for leave in LeaveRequest.objects.filter(status=LeaveRequest.Status.APPROVED)
        for offset in range((leave.ends_on - leave.starts_on).days + 1)
    }
    records = []
    for employee in employees:
        assignment = assignments.get(employee.pk)
        location = employee.allowed_locations.first()
        if assignment is None:
            continue
        shift = assignment.shift
        for offset in range((today - first_day).days):
            day = first_day + timedelta(days=offset)
            if (
                day.weekday() not in assignment.weekdays
                or day < employee.employment_start
                or day in holidays_by_year[day.year]
                or (employee.pk, day) in on_leave
                or _spread(employee.employee_number, day, "absent") < 25
            ):
                continue
            start, end = timecalc.shift_window(
                work_date=day,
                start=shift.start_time,
                end=shift.end_time,
                time_zone=employee.work_time_zone,
            )
            check_in = start + timedelta(minutes=_spread(employee.employee_number, day) % 25 - 10)
            stay = _spread(employee.employee_number, day, "out")
            check_out = end + timedelta(minutes=stay % 30 - 10 + (90 if stay > 900 else 0))
            summary = timecalc.attendance_summary(
                shift=timecalc.ShiftSpec(
                    start=shift.start_time,
                    end=shift.end_time,
                    break_minutes=shift.break_minutes,
                    grace_minutes=shift.grace_minutes,
                ),
                work_date=day,
                time_zone=employee.work_time_zone,
                check_in_utc=check_in,
                check_out_utc=check_out,
            )
            fix = {
                "check_in_latitude": location.latitude if location else None,
                "check_in_longitude": location.longitude if location else None,
                "check_in_accuracy_m": Decimal(15),
                "check_in_location": location,
                "check_out_latitude": location.latitude if location else None,
                "check_out_longitude": location.longitude if location else None,
                "check_out_accuracy_m": Decimal(15),
                "check_out_location": location,
            }
            records.append(
                AttendanceRecord(
                    employee=employee,
                    work_date=day,
                    shift=shift,
                    scheduled_start_at=start,
                    scheduled_end_at=end,
                    state=AttendanceRecord.State.CLOSED,
                    check_in_at=check_in,
                    punched_in_at=check_in,
                    check_out_at=check_out,
                    punched_out_at=check_out,
                    worked_minutes=summary.worked_minutes,
                    late_minutes=summary.late_minutes,
                    early_leave_minutes=summary.early_leave_minutes,
                    overtime_minutes=summary.overtime_minutes,
                    **fix,
                )
            )
    AttendanceRecord.objects.bulk_create(records, batch_size=1000)
    return len(records)


def _seed_leave(employees: list[Employee], *, admin: Actor, today: date) -> int:
    """Leave types with their accrual, an opening balance each, and some leave: approved
    last month, one pending request waiting for the demo manager."""
    leave_services.leave_type_defaults_ensure(on=today)
    if LeaveRequest.objects.exists():
        return 0
    annual = LeaveType.objects.get(code="annual")
    unpaid = LeaveType.objects.get(code="unpaid")
    created = 0
    for employee in employees:
        leave_services.leave_adjustment_create(
            actor=admin,
            employee_id=employee.pk,
            leave_type_id=annual.pk,
            days=Decimal(10),
            note="Opening balance carried over from the previous system",
        )
        created += 1
    month_ago = _attendance_start(today)
    for index, employee in enumerate(employees[10:40:6]):
        starts_on = month_ago + timedelta(days=3 + index * 4)
        leave_type = unpaid if index == 2 else annual
        leave = leave_services.leave_request_create(
            actor=admin,
            employee_id=employee.pk,
            leave_type_id=leave_type.pk,
            starts_on=starts_on,
            ends_on=starts_on + timedelta(days=1 + index % 2),
            reason="Family visit" if leave_type == annual else "Personal matters",
            submit=True,
        )
        if leave.status == LeaveRequest.Status.PENDING:
            leave_services.leave_request_approve(actor=admin, leave=leave, note="Enjoy")
        created += 1
    waiting = next(
        (e for e in employees if e.manager and e.manager.employee_number == "E002" and not e.user),
        None,
    )
    if waiting is not None:
        starts_on = today + timedelta(days=14)
        leave_services.leave_request_create(
            actor=admin,
            employee_id=waiting.pk,
            leave_type_id=annual.pk,
            starts_on=starts_on,
            ends_on=starts_on + timedelta(days=2),
            reason="Long weekend",
            submit=True,
        )
        created += 1
    return created


def _seed_salaries(employees: list[Employee], *, admin: Actor) -> int:
    if SalaryStructure.objects.exists():
        return 0
    components = []
    for code, name, kind, fields in SALARY_COMPONENTS:
        components.append(
            payroll_services.salary_component_create(
                actor=admin, code=code, name=name, kind=kind, **fields
            )
        )
    structure = payroll_services.salary_structure_create(
        actor=admin,
        name="Standard",
        description="Base pay, housing allowance, pension and a flat income tax.",
        components=[component.pk for component in components],
    )
    for employee in employees:
        title = employee.position.title if employee.position else "Associate"
        payroll_services.salary_assignment_create(
            actor=admin,
            employee=employee.pk,
            structure=structure.pk,
            base_pay=MONTHLY_BASE_PAY[title],
            effective_from=employee.employment_start,
        )
    return len(components) + 1 + len(employees)


def hr_demo_seed(*, schema_name: str) -> HrDemoResult:
    with in_tenant(schema_name):
        result = _seed_people(schema_name)
        with transaction.atomic():
            today = timezone.localdate()
            employees = list(
                Employee.objects.select_related("position", "manager").order_by("employee_number")
            )
            admin_user = User.objects.filter(roles__slug="tenant_admin").order_by("date_joined")
            admin = actor_for_user(user=admin_user.first())
            created = _seed_policy_and_shifts(employees)
            created += _seed_leave(employees, admin=admin, today=today)
            created += _seed_attendance(employees, today=today)
            created += _seed_salaries(employees, admin=admin)
        return HrDemoResult(created=result.created + created, employees=result.employees)


def _seed_people(schema_name: str) -> HrDemoResult:
    with transaction.atomic():
        created = 0
        departments: dict[str, Department] = {}
        for name, parent in DEPARTMENTS:
            departments[name], is_new = Department.objects.get_or_create(
                name=name, defaults={"parent": departments.get(parent) if parent else None}
            )
            created += is_new
        positions = {}
        for title in POSITIONS:
            positions[title], is_new = Position.objects.get_or_create(title=title)
            created += is_new
        locations = []
        for name, address, latitude, longitude, radius_m, time_zone in LOCATIONS:
            location, is_new = WorkLocation.objects.get_or_create(
                name=name,
                defaults={
                    "address": address,
                    "latitude": Decimal(latitude),
                    "longitude": Decimal(longitude),
                    "radius_m": radius_m,
                    "time_zone": time_zone,
                },
            )
            locations.append(location)
            created += is_new

        def employee(number: str, index: int, *, office: int, **fields: object) -> Employee:
            nonlocal created
            row, is_new = Employee.all_objects.get_or_create(
                employee_number=number,
                defaults={
                    "first_name": FIRST_NAMES[index % len(FIRST_NAMES)],
                    "last_name": LAST_NAMES[index % len(LAST_NAMES)],
                    "email": f"{number.lower()}@staffco.example.test",
                    "phone": _phone(office, index),
                    "employment_start": date(2020 + index % 5, 1 + index % 12, 1),
                    "work_time_zone": locations[office].time_zone,
                    **fields,
                },
            )
            if is_new:
                row.allowed_locations.set([locations[office]])
                created += 1
            return row

        director = employee(
            "E001",
            0,
            office=0,
            department=departments["Head Office"],
            position=positions["Managing Director"],
        )
        leads = {}
        for index, (number, department, office) in enumerate(TEAMS, start=1):
            leads[number] = employee(
                number,
                index,
                office=office,
                department=departments[department],
                position=positions["Team Lead"],
                manager=director,
            )
        for index in range(len(TEAMS) + 1, EMPLOYEE_COUNT):
            lead_number, department, office = TEAMS[index % len(TEAMS)]
            employee(
                f"E{index + 1:03d}",
                index,
                office=office,
                department=departments[department],
                position=positions["Specialist" if index % 3 else "Associate"],
                manager=leads[lead_number],
                # A few field workers are not tied to an office.
                is_geofence_exempt=index % 10 == 0,
            )

        for username, (number, role_slug) in DEMO_USERS.items():
            user, is_new = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@staffco.example.test"}
            )
            if is_new:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                user.roles.set(Role.objects.filter(slug=role_slug))
                created += 1
            if not Employee.all_objects.filter(user=user).exists():
                Employee.all_objects.filter(employee_number=number, user=None).update(user=user)
        return HrDemoResult(created=created, employees=Employee.objects.count())
