from django.urls import path

from apps.jobs import apis

urlpatterns = [
    path("jobs/", apis.JobRunListApi.as_view(), name="job-list"),
    path("jobs/<uuid:job_id>/", apis.JobRunDetailApi.as_view(), name="job-detail"),
    path("jobs/<uuid:job_id>/cancel/", apis.JobRunCancelApi.as_view(), name="job-cancel"),
]
