"""HR staff pages: leave. "My leave" (balances, requests, a request form) and the
manager's approvals. Thin views: forms parse, services decide, domain errors are shown
next to the field they concern (or at the top of the form)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.selectors import actor_for_user
from apps.core.errors import ApplicationError
from apps.hr.errors import InsufficientBalanceError, LeaveNoWorkingDaysError, LeaveOverlapsError
from apps.hr.selectors import leave as selectors
from apps.hr.selectors.people import employee_for_user
from apps.hr.services import leave as services

# Which form field a domain error belongs next to.
ERROR_FIELDS = {
    LeaveOverlapsError: "starts_on",
    LeaveNoWorkingDaysError: "ends_on",
    InsufficientBalanceError: "leave_type",
}


class LeaveRequestForm(forms.Form):
    leave_type = forms.ModelChoiceField(queryset=None, empty_label=None)
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_half = forms.BooleanField(required=False, label="First day starts at midday")
    end_half = forms.BooleanField(required=False, label="Last day ends at midday")
    reason = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: object, leave_types: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leave_type"].queryset = leave_types

    def clean(self) -> dict:
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The leave cannot end before it starts.")
        return data


def _add_service_error(form: forms.Form, error: Exception) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
        return
    message = getattr(error, "message", None) or "; ".join(getattr(error, "messages", []))
    form.add_error(ERROR_FIELDS.get(type(error)), message)


@login_required
def my_leave(request: HttpRequest) -> HttpResponse:
    actor = actor_for_user(user=request.user)
    employee = employee_for_user(user=request.user)
    if employee is None:
        return render(request, "hr/leave/no_employee.html", status=404)
    services.leave_type_defaults_ensure()
    leave_types = selectors.leave_type_list(actor=actor, active_only=True)
    form = LeaveRequestForm(request.POST or None, leave_types=leave_types)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.leave_request_create(
                actor=actor,
                leave_type_id=data["leave_type"].pk,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                start_half=data["start_half"],
                end_half=data["end_half"],
                reason=data["reason"],
                submit=True,
            )
        except (ApplicationError, ValidationError) as error:
            _add_service_error(form, error)
        else:
            messages.success(request, "Your leave request was sent for approval.")
            return redirect("hr-leave-my")
    context = {
        "employee": employee,
        "balances": selectors.leave_balance_list(employee=employee),
        "requests": selectors.leave_request_list(actor=actor).filter(employee=employee)[:50],
        "form": form,
        "today": timezone.localdate(),
    }
    return render(request, "hr/leave/my_leave.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def my_leave_cancel(request: HttpRequest, leave_request_id: str) -> HttpResponse:
    actor = actor_for_user(user=request.user)
    try:
        leave = selectors.leave_request_get(actor=actor, leave_request_id=leave_request_id)
        services.leave_request_cancel(actor=actor, leave=leave)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The request was cancelled.")
    return redirect("hr-leave-my")


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    actor = actor_for_user(user=request.user)
    pending = selectors.leave_request_list_awaiting(actor=actor).order_by("starts_on")
    return render(request, "hr/leave/approvals.html", {"pending": pending})


@login_required
@require_POST
def approval_decide(request: HttpRequest, leave_request_id: str, decision: str) -> HttpResponse:
    actor = actor_for_user(user=request.user)
    service = {
        "approve": services.leave_request_approve,
        "reject": services.leave_request_reject,
    }[decision]
    note = request.POST.get("note", "")[:1000]
    try:
        leave = selectors.leave_request_get(actor=actor, leave_request_id=leave_request_id)
        leave = service(actor=actor, leave=leave, note=note)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{leave.employee.full_name}'s leave was {leave.status}.")
    return redirect("hr-leave-approvals")


urlpatterns = [
    path("leave/", my_leave, name="hr-leave-my"),
    path("leave/<uuid:leave_request_id>/cancel/", my_leave_cancel, name="hr-leave-cancel"),
    path("leave/approvals/", approvals, name="hr-leave-approvals"),
    path(
        "leave/approvals/<uuid:leave_request_id>/approve/",
        approval_decide,
        {"decision": "approve"},
        name="hr-leave-approve",
    ),
    path(
        "leave/approvals/<uuid:leave_request_id>/reject/",
        approval_decide,
        {"decision": "reject"},
        name="hr-leave-reject",
    ),
]
