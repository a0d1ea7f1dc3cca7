"""Celery entry points of HR, one module per sub-domain (imported here for autodiscovery)."""

from apps.hr.tasks import attendance, leave, payroll  # noqa: F401
