"""Pipeline apis: incidents."""
