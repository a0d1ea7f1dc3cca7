from django.urls import path

from apps.schedules import apis

urlpatterns = [
    path("schedules/", apis.ScheduleListCreateApi.as_view(), name="schedule-list"),
    path("schedules/preview/", apis.SchedulePreviewApi.as_view(), name="schedule-preview"),
    path("schedules/tasks/", apis.SchedulableTaskListApi.as_view(), name="schedule-task-list"),
    path("schedules/<uuid:schedule_id>/", apis.ScheduleDetailApi.as_view(), name="schedule-detail"),
    path("schedules/<uuid:schedule_id>/run/", apis.ScheduleRunApi.as_view(), name="schedule-run"),
    path(
        "schedules/<uuid:schedule_id>/runs/",
        apis.ScheduleRunListApi.as_view(),
        name="schedule-run-list",
    ),
]
