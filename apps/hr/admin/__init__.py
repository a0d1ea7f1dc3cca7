"""HR admin, one module per sub-domain (imported here so admin autodiscovery finds them)."""

from apps.hr.admin import attendance, leave, payroll, people  # noqa: F401
