"""Celery tasks of HR leave: thin wrappers around apps.hr.services.leave."""
