"""URLs served on every tenant host (``<tenant>.<base domain>``)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.modules import module_path

api_v1 = [
    path("", include("apps.core.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.jobs.urls")),
    path("", include("apps.notifications.urls")),
    path("", include("apps.schedules.urls")),
    path("", include("apps.reports.urls")),
    # Business modules join here through apps.core.modules.module_path(...), e.g.
    # module_path("hr/", "hr", "apps.hr.urls"): 404 for tenants without the module.
    module_path("hr/", "hr", "apps.hr.urls"),
    module_path("pipeline/", "pipeline", "apps.pipeline.urls"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Staff pages of business modules, gated like their API routes.
    module_path("hr/", "hr", "apps.hr.pages.urls"),
    module_path("pipeline/", "pipeline", "apps.pipeline.pages.urls"),
    path("", include("apps.core.pages")),
]
