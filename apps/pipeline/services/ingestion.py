"""Pipeline services: ingestion."""
