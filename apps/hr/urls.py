from django.urls import path

from apps.hr import apis, urls_attendance, urls_leave, urls_payroll

urlpatterns = [
    path("departments/", apis.DepartmentListCreateApi.as_view(), name="hr-department-list"),
    path(
        "departments/<uuid:department_id>/",
        apis.DepartmentDetailApi.as_view(),
        name="hr-department-detail",
    ),
    path("positions/", apis.PositionListCreateApi.as_view(), name="hr-position-list"),
    path(
        "positions/<uuid:position_id>/",
        apis.PositionDetailApi.as_view(),
        name="hr-position-detail",
    ),
    path("locations/", apis.WorkLocationListCreateApi.as_view(), name="hr-location-list"),
    path(
        "locations/<uuid:location_id>/",
        apis.WorkLocationDetailApi.as_view(),
        name="hr-location-detail",
    ),
    path("employees/", apis.EmployeeListCreateApi.as_view(), name="hr-employee-list"),
    path("employees/me/", apis.EmployeeMeApi.as_view(), name="hr-employee-me"),
    path(
        "employees/<uuid:employee_id>/",
        apis.EmployeeDetailApi.as_view(),
        name="hr-employee-detail",
    ),
]
urlpatterns += [*urls_attendance.urlpatterns, *urls_leave.urlpatterns, *urls_payroll.urlpatterns]
