"""Pipeline selectors: ingestion."""
