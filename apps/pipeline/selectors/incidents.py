"""Pipeline selectors: incidents."""
