"""Pipeline apis, one module per sub-domain: import from apps.pipeline.apis.<sub-domain>."""
