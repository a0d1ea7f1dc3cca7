"""Pipeline detection routes (included by apps.pipeline.urls under /api/v1/pipeline/)."""

from django.urls import path

from apps.pipeline.apis import detection as apis

urlpatterns = [
    path("rules/", apis.DetectionRuleListCreateApi.as_view(), name="pipeline-rule-list"),
    path(
        "rules/<uuid:rule_id>/",
        apis.DetectionRuleDetailApi.as_view(),
        name="pipeline-rule-detail",
    ),
    path("alarms/", apis.AlarmListApi.as_view(), name="pipeline-alarm-list"),
    path(
        "alarms/<uuid:alarm_id>/",
        apis.AlarmDetailApi.as_view(),
        name="pipeline-alarm-detail",
    ),
    path(
        "alarms/<uuid:alarm_id>/clear/",
        apis.AlarmClearApi.as_view(),
        name="pipeline-alarm-clear",
    ),
    path(
        "water-balance/",
        apis.ZoneWaterBalanceListApi.as_view(),
        name="pipeline-water-balance-list",
    ),
]
