"""HR API routes: leave (included by apps.hr.urls under /api/v1/hr/)."""

from django.urls import path

from apps.hr.apis import leave as apis

urlpatterns = [
    path("leave-types/", apis.LeaveTypeListCreateApi.as_view(), name="hr-leave-type-list"),
    path(
        "leave-types/<uuid:leave_type_id>/",
        apis.LeaveTypeDetailApi.as_view(),
        name="hr-leave-type-detail",
    ),
    path(
        "leave-types/<uuid:leave_type_id>/accrual-policy/",
        apis.LeaveAccrualPolicyApi.as_view(),
        name="hr-leave-type-accrual-policy",
    ),
    path("holidays/", apis.HolidayListApi.as_view(), name="hr-holiday-list"),
    path(
        "tenant-holidays/",
        apis.TenantHolidayListCreateApi.as_view(),
        name="hr-tenant-holiday-list",
    ),
    path(
        "tenant-holidays/<uuid:holiday_id>/",
        apis.TenantHolidayDetailApi.as_view(),
        name="hr-tenant-holiday-detail",
    ),
    path("leave-requests/", apis.LeaveRequestListCreateApi.as_view(), name="hr-leave-request-list"),
    path(
        "leave-requests/<uuid:leave_request_id>/",
        apis.LeaveRequestDetailApi.as_view(),
        name="hr-leave-request-detail",
    ),
    path(
        "leave-requests/<uuid:leave_request_id>/submit/",
        apis.LeaveRequestSubmitApi.as_view(),
        name="hr-leave-request-submit",
    ),
    path(
        "leave-requests/<uuid:leave_request_id>/approve/",
        apis.LeaveRequestApproveApi.as_view(),
        name="hr-leave-request-approve",
    ),
    path(
        "leave-requests/<uuid:leave_request_id>/reject/",
        apis.LeaveRequestRejectApi.as_view(),
        name="hr-leave-request-reject",
    ),
    path(
        "leave-requests/<uuid:leave_request_id>/cancel/",
        apis.LeaveRequestCancelApi.as_view(),
        name="hr-leave-request-cancel",
    ),
    path("leave-approvals/", apis.LeaveApprovalListApi.as_view(), name="hr-leave-approval-list"),
    path(
        "employees/me/leave-balances/",
        apis.LeaveBalanceMeApi.as_view(),
        name="hr-leave-balance-me",
    ),
    path(
        "employees/<uuid:employee_id>/leave-balances/",
        apis.LeaveBalanceListApi.as_view(),
        name="hr-leave-balance-list",
    ),
    path("leave-ledger/", apis.LeaveLedgerListApi.as_view(), name="hr-leave-ledger-list"),
    path(
        "leave-adjustments/",
        apis.LeaveAdjustmentCreateApi.as_view(),
        name="hr-leave-adjustment-create",
    ),
]
