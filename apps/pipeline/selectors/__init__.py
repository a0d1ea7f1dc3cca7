"""Pipeline selectors, one module per sub-domain: import from apps.pipeline.selectors.<sub-domain>."""
