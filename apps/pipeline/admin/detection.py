"""Pipeline admin: detection."""
