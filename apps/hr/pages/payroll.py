"""HR staff pages: payroll. "My payslips": the signed-in employee's payslips of approved
runs, each with its PDF. Another person's payslip is a 404, like in the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from apps.accounts.selectors import actor_for_user
from apps.core.errors import NotFoundError
from apps.hr.selectors import payroll as selectors
from apps.hr.selectors.people import employee_for_user


@login_required
def payslip_list_page(request: HttpRequest) -> HttpResponse:
    actor = actor_for_user(user=request.user)
    return render(
        request,
        "hr/payroll/payslips.html",
        {
            "employee": employee_for_user(user=request.user),
            "payslips": selectors.payslip_list_own(actor=actor),
        },
    )


@login_required
def payslip_pdf_page(request: HttpRequest, payslip_id: str) -> FileResponse:
    try:
        payslip = selectors.payslip_get_own(
            actor=actor_for_user(user=request.user), payslip_id=payslip_id
        )
    except NotFoundError as error:
        raise Http404 from error
    if not payslip.pdf or not default_storage.exists(payslip.pdf.name):
        raise Http404("The PDF of this payslip is not ready yet.")
    response = FileResponse(
        default_storage.open(payslip.pdf.name, "rb"),
        as_attachment=True,
        filename=f"payslip-{payslip.run.period:%Y-%m}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("payslips/", payslip_list_page, name="hr-payslips-page"),
    path("payslips/<uuid:payslip_id>/pdf/", payslip_pdf_page, name="hr-payslip-pdf-page"),
]
