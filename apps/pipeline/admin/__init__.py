"""Pipeline admin, one module per sub-domain (imported so admin autodiscovery finds them)."""

from apps.pipeline.admin import detection, incidents, ingestion, network  # noqa: F401
