"""Staff pages of HR under /hr/ (gated by the hr module switch in config.urls_tenant)."""

from apps.hr.pages import attendance, leave, payroll

urlpatterns = [*attendance.urlpatterns, *leave.urlpatterns, *payroll.urlpatterns]
