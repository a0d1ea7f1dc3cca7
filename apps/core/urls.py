from django.urls import path

from apps.core import apis

urlpatterns = [
    path("health/", apis.HealthApi.as_view(), name="health"),
    path("audit/", apis.AuditEntryListApi.as_view(), name="audit-list"),
    path("audit/<int:entry_id>/", apis.AuditEntryDetailApi.as_view(), name="audit-detail"),
]
