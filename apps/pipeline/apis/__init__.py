"""Pipeline apis, one module per sub-domain.

Import from ``apps.pipeline.apis.<sub-domain>``."""
