"""HR staff pages: attendance. Check in and out from the browser (the page's script reads
the device's position and posts to the check-in / check-out API with the session), and
the employee's own recent records in their work time zone."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from apps.hr.selectors import attendance as selectors
from apps.hr.selectors.people import employee_for_user

RECENT_RECORDS = 31


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


@login_required
def attendance_page(request: HttpRequest) -> HttpResponse:
    employee = employee_for_user(user=request.user)
    context: dict[str, object] = {"employee": employee}
    if employee is not None:
        records = selectors.attendance_list_for_employee(employee=employee)[:RECENT_RECORDS]
        context.update(
            open_record=selectors.attendance_open_for(employee=employee),
            rows=[
                {
                    "record": record,
                    "worked": _duration(record.worked_minutes),
                    "late": _duration(record.late_minutes) if record.late_minutes else "",
                    "early": _duration(record.early_leave_minutes)
                    if record.early_leave_minutes
                    else "",
                    "overtime": _duration(record.overtime_minutes)
                    if record.overtime_minutes
                    else "",
                }
                for record in records
            ],
        )
    return render(request, "hr/attendance/page.html", context)


urlpatterns = [path("attendance/", attendance_page, name="hr-attendance")]
