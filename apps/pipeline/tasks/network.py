"""Pipeline tasks: network."""
