"""Pipeline tasks: incidents."""
