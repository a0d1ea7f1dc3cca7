"""Pipeline incidents routes."""

urlpatterns: list = []
