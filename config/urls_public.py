"""URLs served on the operators' bare host (``localhost``): the platform admin."""

from django.contrib import admin
from django.urls import path

from apps.core.apis import HealthApi
from apps.core.pages import home_public

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/health/", HealthApi.as_view(), name="health"),
    path("", home_public, name="home"),
]
