"""HR API routes: payroll (included by apps.hr.urls)."""

urlpatterns: list = []
