"""Pipeline admin: network."""
