"""Pipeline apis: detection."""
