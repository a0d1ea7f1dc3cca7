"""Pipeline detection routes."""

urlpatterns: list = []
