"""Pipeline ingestion routes (included by apps.pipeline.urls under /api/v1/pipeline/)."""

from django.urls import path

from apps.pipeline.apis import ingestion as apis

urlpatterns = [
    path("ingest/", apis.IngestApi.as_view(), name="pipeline-ingest"),
    path(
        "devices/<uuid:device_id>/keys/",
        apis.DeviceKeyListIssueApi.as_view(),
        name="pipeline-device-key-list",
    ),
    path(
        "devices/<uuid:device_id>/keys/rotate/",
        apis.DeviceKeyRotateApi.as_view(),
        name="pipeline-device-key-rotate",
    ),
    path(
        "device-keys/<uuid:key_id>/revoke/",
        apis.DeviceKeyRevokeApi.as_view(),
        name="pipeline-device-key-revoke",
    ),
    path("readings/", apis.ReadingListApi.as_view(), name="pipeline-reading-list"),
]
