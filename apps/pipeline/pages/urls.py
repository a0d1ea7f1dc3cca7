"""Pipeline staff pages under /pipeline/."""

urlpatterns: list = []
