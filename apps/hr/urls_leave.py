"""HR API routes: leave (included by apps.hr.urls)."""

urlpatterns: list = []
