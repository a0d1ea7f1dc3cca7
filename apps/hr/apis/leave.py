"""HR leave API: leave types and accrual policies, holidays, requests and their
transitions, balances and the ledger. Every read goes through the leave row scope
(apps.hr.selectors.leave): a row the caller may not see answers 404."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.fields import StrictBooleanField
from apps.core.api.filters import StrictBooleanFilter, StrictChoiceFilter, StrictUUIDFilter
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.hr.models import (
    AccrualPolicy,
    Employee,
    LeaveLedgerEntry,
    LeaveRequest,
    LeaveType,
    TenantHoliday,
)
from apps.hr.selectors import leave as selectors
from apps.hr.selectors.people import employee_for_user, employee_get_own
from apps.hr.services import leave as services

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)
# Dates outside these bounds are typos, not leave; they also keep the holiday calendar
# (loaded per year) and the day walk small whatever a client sends.
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def _date_in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError(f"From {EARLIEST} to {LATEST}.")
    return value


def _date_field(**kwargs) -> serializers.DateField:
    return serializers.DateField(validators=[_date_in_range], **kwargs)


# --- leave types and accrual policies -------------------------------------------------------


class LeaveAccrualPolicyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccrualPolicy
        fields = ("frequency", "days_per_period", "cap_days", "updated_at")


class LeaveTypeOutputSerializer(serializers.ModelSerializer):
    accrual_policy = serializers.SerializerMethodField()

    class Meta:
        model = LeaveType
        fields = (
            "id",
            "code",
            "name",
            "is_paid",
            "tracks_balance",
            "allows_negative_balance",
            "allows_half_days",
            "is_active",
            "accrual_policy",
            "created_at",
            "updated_at",
        )

    @extend_schema_field(LeaveAccrualPolicyOutputSerializer(allow_null=True))
    def get_accrual_policy(self, leave_type: LeaveType) -> dict | None:
        policy = getattr(leave_type, "accrual_policy", None)
        return LeaveAccrualPolicyOutputSerializer(policy).data if policy else None


class LeaveTypeInputSerializer(StrictSerializer):
    code = serializers.SlugField(max_length=32)
    name = serializers.CharField(max_length=120)
    is_paid = StrictBooleanField(required=False)
    tracks_balance = StrictBooleanField(required=False)
    allows_negative_balance = StrictBooleanField(required=False)
    allows_half_days = StrictBooleanField(required=False)
    is_active = StrictBooleanField(required=False)


class LeaveAccrualPolicyInputSerializer(StrictSerializer):
    frequency = serializers.ChoiceField(choices=AccrualPolicy.Frequency.choices)
    days_per_period = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=366,
        coerce_to_string=False,
    )
    cap_days = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=3660,
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=False,
        help_text="The balance accruals stop at; null for no cap.",
    )


class LeaveTypeFilter(filters.FilterSet):
    is_active = StrictBooleanFilter(field_name="is_active")

    class Meta:
        model = LeaveType
        fields = ("is_active",)


class LeaveTypeListCreateApi(TenantApi):
    filterset_class = LeaveTypeFilter
    ordering_fields = ("created_at", "code")

    def get_queryset(self) -> QuerySet[LeaveType]:
        return LeaveType.objects.none()

    @extend_schema(responses={200: LeaveTypeOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.leave_type_list(actor=self.actor), LeaveTypeOutputSerializer
        )

    @extend_schema(
        request=LeaveTypeInputSerializer,
        responses={201: LeaveTypeOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """A code already used is a 409 ``hr.name_taken``."""
        payload = LeaveTypeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        leave_type = services.leave_type_create(actor=self.actor, **payload.validated_data)
        return Response(LeaveTypeOutputSerializer(leave_type).data, status=status.HTTP_201_CREATED)


class LeaveTypeDetailApi(TenantApi):
    @extend_schema(responses={200: LeaveTypeOutputSerializer, 404: ERROR})
    def get(self, request: Request, leave_type_id: str) -> Response:
        leave_type = selectors.leave_type_get(actor=self.actor, leave_type_id=leave_type_id)
        return Response(LeaveTypeOutputSerializer(leave_type).data)

    @extend_schema(
        request=LeaveTypeInputSerializer(partial=True),
        responses={200: LeaveTypeOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, leave_type_id: str) -> Response:
        leave_type = selectors.leave_type_get(actor=self.actor, leave_type_id=leave_type_id)
        payload = LeaveTypeInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        leave_type = services.leave_type_update(
            actor=self.actor, leave_type=leave_type, data=payload.validated_data
        )
        return Response(LeaveTypeOutputSerializer(leave_type).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, leave_type_id: str) -> Response:
        """A type with requests or ledger entries is a 409 ``hr.leave_type_in_use``:
        deactivate it instead (``is_active``)."""
        leave_type = selectors.leave_type_get(actor=self.actor, leave_type_id=leave_type_id)
        services.leave_type_delete(actor=self.actor, leave_type=leave_type)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeaveAccrualPolicyApi(TenantApi):
    @extend_schema(responses={200: LeaveAccrualPolicyOutputSerializer, 404: ERROR})
    def get(self, request: Request, leave_type_id: str) -> Response:
        """404 when the type accrues nothing."""
        leave_type = selectors.leave_type_get(actor=self.actor, leave_type_id=leave_type_id)
        policy = selectors.accrual_policy_get(actor=self.actor, leave_type=leave_type)
        return Response(LeaveAccrualPolicyOutputSerializer(policy).data)

    @extend_schema(
        request=LeaveAccrualPolicyInputSerializer,
        responses={200: LeaveAccrualPolicyOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def put(self, request: Request, leave_type_id: str) -> Response:
        """Create or replace the type's accrual policy."""
        leave_type = selectors.leave_type_get(actor=self.actor, leave_type_id=leave_type_id)
        payload = LeaveAccrualPolicyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        policy = services.accrual_policy_set(
            actor=self.actor, leave_type=leave_type, **payload.validated_data
        )
        return Response(LeaveAccrualPolicyOutputSerializer(policy).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, leave_type_id: str) -> Response:
        leave_type = selectors.leave_type_get(actor=self.actor, leave_type_id=leave_type_id)
        policy = selectors.accrual_policy_get(actor=self.actor, leave_type=leave_type)
        services.accrual_policy_delete(actor=self.actor, policy=policy)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- holidays ------------------------------------------------------------------------------


class LeaveHolidayOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField()
    source = serializers.ChoiceField(
        choices=[("public", "public"), ("tenant", "tenant")],
        help_text="public: the country's calendar; tenant: one of the tenant's own.",
    )
    id = serializers.UUIDField(allow_null=True, help_text="The tenant holiday's id.")


class LeaveHolidayFilterSerializer(StrictSerializer):
    year = serializers.IntegerField(min_value=EARLIEST.year, max_value=LATEST.year, required=False)


class HolidayListApi(TenantApi):
    pagination_class = None
    queryset = TenantHoliday.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="Defaults to the current year."),
        ],
        responses={200: LeaveHolidayOutputSerializer(many=True), 400: ERROR, 409: ERROR},
    )
    def get(self, request: Request) -> Response:
        """Days off in a year: the public holidays of the HR policy's country and
        subdivision (observed days included) and the tenant's own, by date."""
        params = {"year": request.query_params["year"]} if "year" in request.query_params else {}
        filter_payload = LeaveHolidayFilterSerializer(data=params)
        filter_payload.is_valid(raise_exception=True)
        year = filter_payload.validated_data.get("year") or timezone.localdate().year
        rows = selectors.holiday_list_for_year(year=year)
        return Response(LeaveHolidayOutputSerializer(rows, many=True).data)


class TenantHolidayOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = TenantHoliday
        fields = ("id", "date", "name", "created_at", "updated_at")


class TenantHolidayInputSerializer(StrictSerializer):
    date = _date_field()
    name = serializers.CharField(max_length=120)


class TenantHolidayListCreateApi(TenantApi):
    ordering_fields = ("created_at", "date")

    def get_queryset(self) -> QuerySet[TenantHoliday]:
        return TenantHoliday.objects.none()

    @extend_schema(responses={200: TenantHolidayOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.tenant_holiday_list(actor=self.actor), TenantHolidayOutputSerializer
        )

    @extend_schema(
        request=TenantHolidayInputSerializer,
        responses={201: TenantHolidayOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """A second holiday on one date is a 409 ``hr.holiday_date_taken``. Requests
        already submitted keep their day count."""
        payload = TenantHolidayInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        holiday = services.tenant_holiday_create(actor=self.actor, **payload.validated_data)
        return Response(TenantHolidayOutputSerializer(holiday).data, status=status.HTTP_201_CREATED)


class TenantHolidayDetailApi(TenantApi):
    @extend_schema(responses={200: TenantHolidayOutputSerializer, 404: ERROR})
    def get(self, request: Request, holiday_id: str) -> Response:
        holiday = selectors.tenant_holiday_get(actor=self.actor, holiday_id=holiday_id)
        return Response(TenantHolidayOutputSerializer(holiday).data)

    @extend_schema(
        request=TenantHolidayInputSerializer(partial=True),
        responses={
            200: TenantHolidayOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, holiday_id: str) -> Response:
        holiday = selectors.tenant_holiday_get(actor=self.actor, holiday_id=holiday_id)
        payload = TenantHolidayInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        holiday = services.tenant_holiday_update(
            actor=self.actor, holiday=holiday, data=payload.validated_data
        )
        return Response(TenantHolidayOutputSerializer(holiday).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, holiday_id: str) -> Response:
        holiday = selectors.tenant_holiday_get(actor=self.actor, holiday_id=holiday_id)
        services.tenant_holiday_delete(actor=self.actor, holiday=holiday)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- requests ------------------------------------------------------------------------------


class LeaveRequestOutputSerializer(serializers.ModelSerializer):
    employee = serializers.UUIDField(source="employee_id")
    employee_name = serializers.CharField(source="employee.full_name")
    leave_type = serializers.UUIDField(source="leave_type_id")
    leave_type_code = serializers.CharField(source="leave_type.code")
    decided_by = serializers.UUIDField(source="decided_by_id", allow_null=True)

    class Meta:
        model = LeaveRequest
        fields = (
            "id",
            "employee",
            "employee_name",
            "leave_type",
            "leave_type_code",
            "starts_on",
            "ends_on",
            "start_half",
            "end_half",
            "days",
            "reason",
            "status",
            "submitted_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "cancelled_at",
            "created_at",
            "updated_at",
        )


class LeaveRequestInputSerializer(StrictSerializer):
    employee = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to the caller's own employee record; others need an HR admin.",
    )
    leave_type = serializers.UUIDField()
    starts_on = _date_field()
    ends_on = _date_field()
    start_half = StrictBooleanField(
        required=False, default=False, help_text="The first day starts at midday."
    )
    end_half = StrictBooleanField(
        required=False, default=False, help_text="The last day ends at midday."
    )
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    submit = StrictBooleanField(
        required=False, default=False, help_text="Submit at once instead of keeping a draft."
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["ends_on"] < attrs["starts_on"]:
            raise serializers.ValidationError(
                {"ends_on": ["The leave cannot end before it starts."]}
            )
        return attrs


class LeaveRequestUpdateSerializer(StrictSerializer):
    leave_type = serializers.UUIDField(required=False)
    starts_on = _date_field(required=False)
    ends_on = _date_field(required=False)
    start_half = StrictBooleanField(required=False)
    end_half = StrictBooleanField(required=False)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class LeaveDecisionInputSerializer(StrictSerializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class LeaveRequestFilter(filters.FilterSet):
    status = StrictChoiceFilter(choices=LeaveRequest.Status.choices)
    employee = StrictUUIDFilter(field_name="employee_id")
    leave_type = StrictUUIDFilter(field_name="leave_type_id")
    mine = StrictBooleanFilter(method="filter_mine", help_text="Only the caller's own leave.")

    class Meta:
        model = LeaveRequest
        fields = ("status", "employee", "leave_type", "mine")

    def filter_mine(
        self, queryset: QuerySet[LeaveRequest], name: str, value: bool
    ) -> QuerySet[LeaveRequest]:
        own = employee_for_user(user=self.request.user)
        own_id = own.pk if own is not None else None
        return (
            queryset.filter(employee_id=own_id) if value else queryset.exclude(employee_id=own_id)
        )


class LeaveRequestListCreateApi(TenantApi):
    filterset_class = LeaveRequestFilter
    ordering_fields = ("created_at", "starts_on")

    def get_queryset(self) -> QuerySet[LeaveRequest]:
        return LeaveRequest.objects.none()

    @extend_schema(responses={200: LeaveRequestOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        """The caller's own requests, their reports' (at any depth), or everyone's for an
        HR admin."""
        return self.list_response(
            selectors.leave_request_list(actor=self.actor), LeaveRequestOutputSerializer
        )

    @extend_schema(
        request=LeaveRequestInputSerializer,
        responses={201: LeaveRequestOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """A draft, or a pending request with ``"submit": true``. Refusals of the
        submission store nothing: 409 ``hr.leave_overlaps``, 409
        ``hr.insufficient_balance``, 400 ``hr.leave_no_working_days``."""
        payload = LeaveRequestInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        leave = services.leave_request_create(
            actor=self.actor,
            employee_id=data["employee"],
            leave_type_id=data["leave_type"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            start_half=data["start_half"],
            end_half=data["end_half"],
            reason=data["reason"],
            submit=data["submit"],
        )
        return Response(LeaveRequestOutputSerializer(leave).data, status=status.HTTP_201_CREATED)


class LeaveRequestDetailApi(TenantApi):
    @extend_schema(responses={200: LeaveRequestOutputSerializer, 404: ERROR})
    def get(self, request: Request, leave_request_id: str) -> Response:
        leave = selectors.leave_request_get(actor=self.actor, leave_request_id=leave_request_id)
        return Response(LeaveRequestOutputSerializer(leave).data)

    @extend_schema(
        request=LeaveRequestUpdateSerializer,
        responses={
            200: LeaveRequestOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, leave_request_id: str) -> Response:
        """Drafts only (409 ``hr.leave_invalid_transition`` otherwise)."""
        leave = selectors.leave_request_get(actor=self.actor, leave_request_id=leave_request_id)
        payload = LeaveRequestUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        leave = services.leave_request_update(
            actor=self.actor, leave=leave, data=payload.validated_data
        )
        return Response(LeaveRequestOutputSerializer(leave).data)


class LeaveRequestSubmitApi(TenantApi):
    @extend_schema(
        request=None,
        responses={
            200: LeaveRequestOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def post(self, request: Request, leave_request_id: str) -> Response:
        """draft -> pending; notifies the approver."""
        leave = selectors.leave_request_get(actor=self.actor, leave_request_id=leave_request_id)
        leave = services.leave_request_submit(actor=self.actor, leave=leave)
        return Response(LeaveRequestOutputSerializer(leave).data)


class LeaveRequestApproveApi(TenantApi):
    @extend_schema(
        request=LeaveDecisionInputSerializer,
        responses={
            200: LeaveRequestOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def post(self, request: Request, leave_request_id: str) -> Response:
        """pending -> approved, by a manager above the employee (``hr.approve_leave``) or an
        HR admin; one's own leave is a 403 ``hr.leave_self_approval``."""
        leave = selectors.leave_request_get(actor=self.actor, leave_request_id=leave_request_id)
        payload = LeaveDecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        leave = services.leave_request_approve(
            actor=self.actor, leave=leave, note=payload.validated_data["note"]
        )
        return Response(LeaveRequestOutputSerializer(leave).data)


class LeaveRequestRejectApi(TenantApi):
    @extend_schema(
        request=LeaveDecisionInputSerializer,
        responses={
            200: LeaveRequestOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def post(self, request: Request, leave_request_id: str) -> Response:
        leave = selectors.leave_request_get(actor=self.actor, leave_request_id=leave_request_id)
        payload = LeaveDecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        leave = services.leave_request_reject(
            actor=self.actor, leave=leave, note=payload.validated_data["note"]
        )
        return Response(LeaveRequestOutputSerializer(leave).data)


class LeaveRequestCancelApi(TenantApi):
    @extend_schema(
        request=None,
        responses={200: LeaveRequestOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, leave_request_id: str) -> Response:
        """By the employee or an HR admin: a draft, a pending request, or approved leave
        that has not ended (its days go back to the balance)."""
        leave = selectors.leave_request_get(actor=self.actor, leave_request_id=leave_request_id)
        leave = services.leave_request_cancel(actor=self.actor, leave=leave)
        return Response(LeaveRequestOutputSerializer(leave).data)


class LeaveApprovalListApi(TenantApi):
    ordering_fields = ("created_at", "starts_on")

    def get_queryset(self) -> QuerySet[LeaveRequest]:
        return LeaveRequest.objects.none()

    @extend_schema(responses={200: LeaveRequestOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        """Pending requests the caller may decide."""
        return self.list_response(
            selectors.leave_request_list_awaiting(actor=self.actor), LeaveRequestOutputSerializer
        )


# --- balances and ledger -------------------------------------------------------------------


class LeaveBalanceOutputSerializer(serializers.Serializer):
    leave_type = serializers.UUIDField(source="leave_type.pk")
    leave_type_code = serializers.CharField(source="leave_type.code")
    leave_type_name = serializers.CharField(source="leave_type.name")
    tracks_balance = serializers.BooleanField(source="leave_type.tracks_balance")
    accrued = serializers.DecimalField(max_digits=8, decimal_places=2)
    used = serializers.DecimalField(max_digits=8, decimal_places=2)
    adjusted = serializers.DecimalField(max_digits=8, decimal_places=2)
    balance = serializers.DecimalField(max_digits=8, decimal_places=2)
    pending = serializers.DecimalField(max_digits=8, decimal_places=2)
    available = serializers.DecimalField(
        max_digits=8, decimal_places=2, help_text="balance minus pending requests"
    )


class LeaveBalanceMeApi(TenantApi):
    pagination_class = None
    queryset = Employee.objects.none()

    @extend_schema(responses={200: LeaveBalanceOutputSerializer(many=True), 403: ERROR, 404: ERROR})
    def get(self, request: Request) -> Response:
        """The caller's balances per leave type; 404 when the account is not linked to an
        employee record."""
        employee = employee_get_own(actor=self.actor)
        balances = selectors.leave_balance_list(employee=employee)
        return Response(LeaveBalanceOutputSerializer(balances, many=True).data)


class LeaveBalanceListApi(TenantApi):
    pagination_class = None
    queryset = Employee.objects.none()

    @extend_schema(responses={200: LeaveBalanceOutputSerializer(many=True), 404: ERROR})
    def get(self, request: Request, employee_id: str) -> Response:
        employee = selectors.leave_employee_get(actor=self.actor, employee_id=employee_id)
        balances = selectors.leave_balance_list(employee=employee)
        return Response(LeaveBalanceOutputSerializer(balances, many=True).data)


class LeaveLedgerOutputSerializer(serializers.ModelSerializer):
    employee = serializers.UUIDField(source="employee_id")
    leave_type = serializers.UUIDField(source="leave_type_id")
    leave_request = serializers.UUIDField(source="leave_request_id", allow_null=True)

    class Meta:
        model = LeaveLedgerEntry
        fields = (
            "id",
            "employee",
            "leave_type",
            "kind",
            "days",
            "effective_on",
            "leave_request",
            "period_key",
            "note",
            "created_at",
        )


class LeaveLedgerFilter(filters.FilterSet):
    employee = StrictUUIDFilter(field_name="employee_id")
    leave_type = StrictUUIDFilter(field_name="leave_type_id")
    kind = StrictChoiceFilter(choices=LeaveLedgerEntry.Kind.choices)

    class Meta:
        model = LeaveLedgerEntry
        fields = ("employee", "leave_type", "kind")


class LeaveLedgerListApi(TenantApi):
    filterset_class = LeaveLedgerFilter
    ordering_fields = ("created_at", "effective_on")

    def get_queryset(self) -> QuerySet[LeaveLedgerEntry]:
        return LeaveLedgerEntry.objects.none()

    @extend_schema(responses={200: LeaveLedgerOutputSerializer(many=True), 400: ERROR})
    def get(self, request: Request) -> Response:
        """Accruals, usage, reversals and adjustments of the employees the caller may see."""
        return self.list_response(
            selectors.leave_ledger_list(actor=self.actor), LeaveLedgerOutputSerializer
        )


class LeaveAdjustmentInputSerializer(StrictSerializer):
    employee = serializers.UUIDField()
    leave_type = serializers.UUIDField()
    days = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=-1000,
        max_value=1000,
        coerce_to_string=False,
        help_text="Signed: positive adds days, negative removes them.",
    )
    note = serializers.CharField(max_length=500)
    effective_on = _date_field(required=False, allow_null=True, default=None)


class LeaveAdjustmentCreateApi(TenantApi):
    @extend_schema(
        request=LeaveAdjustmentInputSerializer,
        responses={201: LeaveLedgerOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """An HR admin's balance correction, with a note. Taking a balance below zero is a
        409 ``hr.insufficient_balance`` unless the type allows negative balances."""
        payload = LeaveAdjustmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        entry = services.leave_adjustment_create(
            actor=self.actor,
            employee_id=data["employee"],
            leave_type_id=data["leave_type"],
            days=data["days"],
            note=data["note"],
            effective_on=data["effective_on"],
        )
        return Response(LeaveLedgerOutputSerializer(entry).data, status=status.HTTP_201_CREATED)
