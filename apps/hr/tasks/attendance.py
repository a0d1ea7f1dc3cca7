"""Celery tasks of HR attendance: thin wrappers around apps.hr.services.attendance."""
