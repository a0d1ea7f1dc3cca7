"""Test-only tenant URLconf: the real tenant routes plus one route behind the hr switch."""

from apps.core.modules import module_path
from config.urls_tenant import urlpatterns as tenant_urlpatterns

urlpatterns = [
    module_path("api/v1/demo/", "hr", "tests.tenancy.urls_demo"),
    *tenant_urlpatterns,
]
