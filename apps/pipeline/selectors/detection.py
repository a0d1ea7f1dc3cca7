"""Pipeline selectors: detection."""
