"""Celery tasks of HR payroll: thin wrappers around apps.hr.services.payroll."""
