"""Pipeline services: network."""
