"""Demo people and places for the staffco demo tenant (``manage.py seed_hr_demo``).

Deterministic and idempotent: rows are keyed by name or employee number, so running it
again changes nothing and adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from apps.accounts.models import Role, User
from apps.core.tenancy import in_tenant
from apps.hr.models import Department, Employee, Position, WorkLocation
from apps.hr.phone import phone_normalize

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


@dataclass(frozen=True)
class HrDemoResult:
    created: int
    employees: int


def _phone(office: int, index: int) -> str:
    # Numbers from the ranges reserved for fiction (555-01xx, Ofcom's 020 7946 0xxx).
    raw = f"+1 212 555 01{index % 100:02d}" if office == 0 else f"+44 20 7946 0{index % 1000:03d}"
    return phone_normalize(raw)


def hr_demo_seed(*, schema_name: str) -> HrDemoResult:
    with in_tenant(schema_name), transaction.atomic():
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
