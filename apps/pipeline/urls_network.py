"""Pipeline network routes: zones, assets, sensors, devices and field teams."""

from django.urls import path

from apps.pipeline.apis import network as apis

urlpatterns = [
    path("zones/", apis.ZoneListCreateApi.as_view(), name="pipeline-zone-list"),
    path("zones/<uuid:zone_id>/", apis.ZoneDetailApi.as_view(), name="pipeline-zone-detail"),
    path("assets/", apis.AssetListCreateApi.as_view(), name="pipeline-asset-list"),
    path("assets/<uuid:asset_id>/", apis.AssetDetailApi.as_view(), name="pipeline-asset-detail"),
    path("sensors/", apis.SensorListCreateApi.as_view(), name="pipeline-sensor-list"),
    path(
        "sensors/<uuid:sensor_id>/", apis.SensorDetailApi.as_view(), name="pipeline-sensor-detail"
    ),
    path("devices/", apis.DeviceListCreateApi.as_view(), name="pipeline-device-list"),
    path(
        "devices/<uuid:device_id>/", apis.DeviceDetailApi.as_view(), name="pipeline-device-detail"
    ),
    path("teams/", apis.TeamListCreateApi.as_view(), name="pipeline-team-list"),
    path("teams/<uuid:team_id>/", apis.TeamDetailApi.as_view(), name="pipeline-team-detail"),
    path(
        "teams/<uuid:team_id>/members/",
        apis.TeamMemberListCreateApi.as_view(),
        name="pipeline-team-member-list",
    ),
    path(
        "teams/<uuid:team_id>/members/<uuid:user_id>/",
        apis.TeamMemberDetailApi.as_view(),
        name="pipeline-team-member-detail",
    ),
    path(
        "teams/<uuid:team_id>/position/",
        apis.TeamPositionApi.as_view(),
        name="pipeline-team-position",
    ),
]
