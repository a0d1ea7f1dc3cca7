"""HR staff pages: payroll."""

urlpatterns: list = []
