"""Pipeline ingestion routes."""

urlpatterns: list = []
