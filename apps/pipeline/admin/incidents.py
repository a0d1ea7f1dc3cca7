"""Pipeline admin: incidents."""
