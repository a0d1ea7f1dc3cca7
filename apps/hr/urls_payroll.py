"""HR API routes: payroll (included by apps.hr.urls)."""

from django.urls import path

from apps.hr.apis import payroll as apis

urlpatterns = [
    path(
        "salary-components/",
        apis.SalaryComponentListCreateApi.as_view(),
        name="hr-salary-component-list",
    ),
    path(
        "salary-components/<uuid:component_id>/",
        apis.SalaryComponentDetailApi.as_view(),
        name="hr-salary-component-detail",
    ),
    path(
        "salary-structures/",
        apis.SalaryStructureListCreateApi.as_view(),
        name="hr-salary-structure-list",
    ),
    path(
        "salary-structures/<uuid:structure_id>/",
        apis.SalaryStructureDetailApi.as_view(),
        name="hr-salary-structure-detail",
    ),
    path(
        "salary-assignments/",
        apis.SalaryAssignmentListCreateApi.as_view(),
        name="hr-salary-assignment-list",
    ),
    path(
        "salary-assignments/<uuid:assignment_id>/",
        apis.SalaryAssignmentDetailApi.as_view(),
        name="hr-salary-assignment-detail",
    ),
    path("payroll-runs/", apis.PayrollRunListCreateApi.as_view(), name="hr-payroll-run-list"),
    path(
        "payroll-runs/<uuid:run_id>/",
        apis.PayrollRunDetailApi.as_view(),
        name="hr-payroll-run-detail",
    ),
    path(
        "payroll-runs/<uuid:run_id>/recompute/",
        apis.PayrollRunRecomputeApi.as_view(),
        name="hr-payroll-run-recompute",
    ),
    path(
        "payroll-runs/<uuid:run_id>/approve/",
        apis.PayrollRunApproveApi.as_view(),
        name="hr-payroll-run-approve",
    ),
    path("payslips/", apis.PayslipListApi.as_view(), name="hr-payslip-list"),
    path("payslips/<uuid:payslip_id>/", apis.PayslipDetailApi.as_view(), name="hr-payslip-detail"),
    path("payslips/<uuid:payslip_id>/pdf/", apis.PayslipPdfApi.as_view(), name="hr-payslip-pdf"),
]
