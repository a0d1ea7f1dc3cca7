"""HR API routes: policy, shifts, roster and attendance (included by apps.hr.urls)."""

from django.urls import path

from apps.hr.apis import attendance as apis

urlpatterns = [
    path("policy/", apis.HrPolicyApi.as_view(), name="hr-policy"),
    path("shifts/", apis.ShiftTemplateListCreateApi.as_view(), name="hr-shift-list"),
    path("shifts/<uuid:shift_id>/", apis.ShiftTemplateDetailApi.as_view(), name="hr-shift-detail"),
    path(
        "shift-assignments/",
        apis.ShiftAssignmentListCreateApi.as_view(),
        name="hr-shift-assignment-list",
    ),
    path(
        "shift-assignments/<uuid:assignment_id>/",
        apis.ShiftAssignmentDetailApi.as_view(),
        name="hr-shift-assignment-detail",
    ),
    path("roster/", apis.RosterApi.as_view(), name="hr-roster"),
    path("attendance/", apis.AttendanceListApi.as_view(), name="hr-attendance-list"),
    path(
        "attendance/check-in/", apis.AttendanceCheckInApi.as_view(), name="hr-attendance-check-in"
    ),
    path(
        "attendance/check-out/",
        apis.AttendanceCheckOutApi.as_view(),
        name="hr-attendance-check-out",
    ),
    path(
        "attendance/<uuid:record_id>/",
        apis.AttendanceDetailApi.as_view(),
        name="hr-attendance-detail",
    ),
    path(
        "attendance/<uuid:record_id>/approve/",
        apis.AttendanceApproveApi.as_view(),
        name="hr-attendance-approve",
    ),
    path(
        "attendance/<uuid:record_id>/reject/",
        apis.AttendanceRejectApi.as_view(),
        name="hr-attendance-reject",
    ),
    path(
        "attendance/<uuid:record_id>/corrections/",
        apis.AttendanceCorrectionListCreateApi.as_view(),
        name="hr-attendance-corrections",
    ),
]
