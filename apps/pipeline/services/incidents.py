"""Pipeline services: incidents."""
