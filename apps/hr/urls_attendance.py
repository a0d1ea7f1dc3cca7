"""HR API routes: attendance (included by apps.hr.urls)."""

urlpatterns: list = []
