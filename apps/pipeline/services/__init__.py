"""Pipeline services, one module per sub-domain.

Import from ``apps.pipeline.services.<sub-domain>``."""
