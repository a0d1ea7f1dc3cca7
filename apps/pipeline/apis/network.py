"""Pipeline apis: network."""
