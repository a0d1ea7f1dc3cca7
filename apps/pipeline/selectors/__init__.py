"""Pipeline selectors, one module per sub-domain.

Import from ``apps.pipeline.selectors.<sub-domain>``."""
