"""Pipeline services: detection."""
