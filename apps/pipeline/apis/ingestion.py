"""Pipeline apis: ingestion."""
