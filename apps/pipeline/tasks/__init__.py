"""Celery entry points of the pipeline, one module per sub-domain (imported for autodiscovery)."""

from apps.pipeline.tasks import detection, incidents, ingestion, network  # noqa: F401
