"""Pipeline tasks: ingestion."""
