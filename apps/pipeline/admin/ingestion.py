"""Pipeline admin: ingestion."""
