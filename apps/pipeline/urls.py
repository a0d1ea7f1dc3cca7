"""Pipeline API under /api/v1/pipeline/, one urlconf per sub-domain (each owned by it)."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.pipeline.urls_network")),
    path("", include("apps.pipeline.urls_ingestion")),
    path("", include("apps.pipeline.urls_detection")),
    path("", include("apps.pipeline.urls_incidents")),
]
