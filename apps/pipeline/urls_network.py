"""Pipeline network routes."""

urlpatterns: list = []
