"""HR staff pages: leave."""

urlpatterns: list = []
