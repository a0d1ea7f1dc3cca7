"""Pipeline tasks: detection."""
