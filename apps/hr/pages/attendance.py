"""HR staff pages: attendance."""

urlpatterns: list = []
