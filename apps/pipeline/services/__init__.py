"""Pipeline services, one module per sub-domain: import from apps.pipeline.services.<sub-domain>."""
