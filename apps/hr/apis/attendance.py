"""HR API views for the policy, shifts, the roster and attendance (routes in
apps/hr/urls_attendance.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.fields import StrictDecimalField, StrictFloatField, StrictIntegerField
from apps.core.api.filters import (
    StrictBooleanFilter,
    StrictChoiceFilter,
    StrictDateFilter,
    StrictUUIDFilter,
)
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.hr.apis.people import ERROR, NAME_MAX
from apps.hr.models import (
    AttendanceCorrection,
    AttendanceRecord,
    Employee,
    HrPolicy,
    ShiftAssignment,
    ShiftTemplate,
)
from apps.hr.selectors import attendance as selectors
from apps.hr.services import attendance as services

_LOCAL_TIME = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")

# --- strict input fields -------------------------------------------------------------------
# The OpenAPI document says "number" / "integer"; DRF would also take "12" or true. The
# schema fuzzer (and any typed client) rightly expects those to be refused.


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant with its UTC offset; a bare local time is ambiguous here."""

    default_error_messages = {
        "naive": "Include a UTC offset, e.g. 2026-03-08T09:00:00-04:00.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


class StrictTimeField(serializers.TimeField):
    """``HH:MM`` or ``HH:MM:SS`` local wall-clock time. An offset is refused rather than
    dropped (Django's parse_time discards it silently): shifts are local times."""

    def to_internal_value(self, value: Any) -> Any:
        if not isinstance(value, str) or not _LOCAL_TIME.fullmatch(value):
            raise serializers.ValidationError("A local wall-clock time, HH:MM, without offset.")
        return super().to_internal_value(value)


# --- policy --------------------------------------------------------------------------------


class HrPolicyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = HrPolicy
        fields = (
            "outside_geofence",
            "max_accuracy_m",
            "holiday_country",
            "holiday_subdivision",
            "weekend_days",
            "standard_day_hours",
            "overtime_multiplier",
            "currency",
            "updated_at",
        )


class HrPolicyInputSerializer(StrictSerializer):
    outside_geofence = serializers.ChoiceField(
        choices=HrPolicy.OutsideGeofence.choices,
        required=False,
        help_text="What a punch outside every allowed work location gets.",
    )
    max_accuracy_m = StrictIntegerField(
        min_value=1,
        max_value=100_000,
        required=False,
        help_text="A fix less precise than this (metres) counts as outside every fence.",
    )
    holiday_country = serializers.CharField(min_length=2, max_length=2, required=False)
    holiday_subdivision = serializers.CharField(max_length=10, required=False, allow_blank=True)
    weekend_days = serializers.ListField(
        child=StrictIntegerField(min_value=0, max_value=6), max_length=7, required=False
    )
    standard_day_hours = StrictDecimalField(
        max_digits=4, decimal_places=2, min_value=Decimal("0.25"), max_value=24, required=False
    )
    overtime_multiplier = StrictDecimalField(
        max_digits=4, decimal_places=2, min_value=1, max_value=10, required=False
    )
    currency = serializers.CharField(min_length=3, max_length=3, required=False)


class HrPolicyApi(TenantApi):
    @extend_schema(responses={200: HrPolicyOutputSerializer, 403: ERROR})
    def get(self, request: Request) -> Response:
        return Response(HrPolicyOutputSerializer(selectors.hr_policy_read(actor=self.actor)).data)

    @extend_schema(
        request=HrPolicyInputSerializer,
        responses={200: HrPolicyOutputSerializer, 400: ERROR, 403: ERROR},
    )
    def patch(self, request: Request) -> Response:
        payload = HrPolicyInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        policy = services.hr_policy_update(actor=self.actor, data=payload.validated_data)
        return Response(HrPolicyOutputSerializer(policy).data)


# --- shift templates -----------------------------------------------------------------------


class ShiftTemplateOutputSerializer(serializers.ModelSerializer):
    start_time = serializers.TimeField(format="%H:%M")
    end_time = serializers.TimeField(format="%H:%M")
    crosses_midnight = serializers.BooleanField()

    class Meta:
        model = ShiftTemplate
        fields = (
            "id",
            "name",
            "start_time",
            "end_time",
            "break_minutes",
            "grace_minutes",
            "crosses_midnight",
            "created_at",
            "updated_at",
        )


class ShiftTemplateInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=NAME_MAX)
    start_time = StrictTimeField(help_text="Local wall-clock time, e.g. 22:00.")
    end_time = StrictTimeField(
        help_text="Local wall-clock time; not after start_time means the shift ends the "
        "next day (crosses midnight)."
    )
    break_minutes = StrictIntegerField(min_value=0, max_value=1439, required=False, default=0)
    grace_minutes = StrictIntegerField(
        min_value=0,
        max_value=1439,
        required=False,
        default=0,
        help_text="Lateness up to this is forgiven; beyond it the whole lateness counts.",
    )


class ShiftTemplateListCreateApi(TenantApi):
    ordering_fields = ("created_at", "name")

    def get_queryset(self) -> QuerySet[ShiftTemplate]:
        return ShiftTemplate.objects.none()

    @extend_schema(responses={200: ShiftTemplateOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.shift_template_list(actor=self.actor), ShiftTemplateOutputSerializer
        )

    @extend_schema(
        request=ShiftTemplateInputSerializer,
        responses={201: ShiftTemplateOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = ShiftTemplateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        shift = services.shift_template_create(actor=self.actor, **payload.validated_data)
        return Response(ShiftTemplateOutputSerializer(shift).data, status=status.HTTP_201_CREATED)


class ShiftTemplateDetailApi(TenantApi):
    @extend_schema(responses={200: ShiftTemplateOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, shift_id: str) -> Response:
        shift = selectors.shift_template_get(actor=self.actor, shift_id=shift_id)
        return Response(ShiftTemplateOutputSerializer(shift).data)

    @extend_schema(
        request=ShiftTemplateInputSerializer(partial=True),
        responses={
            200: ShiftTemplateOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, shift_id: str) -> Response:
        shift = selectors.shift_template_get(actor=self.actor, shift_id=shift_id)
        payload = ShiftTemplateInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        shift = services.shift_template_update(
            actor=self.actor, shift=shift, data=payload.validated_data
        )
        return Response(ShiftTemplateOutputSerializer(shift).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, shift_id: str) -> Response:
        """Refused (409 ``hr.shift_in_use``) while an assignment or a punch uses it."""
        shift = selectors.shift_template_get(actor=self.actor, shift_id=shift_id)
        services.shift_template_delete(actor=self.actor, shift=shift)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- assignments ---------------------------------------------------------------------------


class ShiftAssignmentOutputSerializer(serializers.ModelSerializer):
    employee = serializers.UUIDField(source="employee_id")
    employee_name = serializers.CharField(source="employee.full_name")
    shift = serializers.UUIDField(source="shift_id")
    shift_name = serializers.CharField(source="shift.name")

    class Meta:
        model = ShiftAssignment
        fields = (
            "id",
            "employee",
            "employee_name",
            "shift",
            "shift_name",
            "weekdays",
            "valid_from",
            "valid_to",
            "created_at",
            "updated_at",
        )


class ShiftAssignmentInputSerializer(StrictSerializer):
    employee = serializers.UUIDField()
    shift = serializers.UUIDField()
    weekdays = serializers.ListField(
        child=StrictIntegerField(min_value=0, max_value=6),
        min_length=1,
        max_length=7,
        help_text="Days worked, 0 (Monday) to 6 (Sunday).",
    )
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Inclusive; empty: open-ended."
    )


class ShiftAssignmentFilter(filters.FilterSet):
    employee = StrictUUIDFilter(field_name="employee_id")
    shift = StrictUUIDFilter(field_name="shift_id")

    class Meta:
        model = ShiftAssignment
        fields = ("employee", "shift")


class ShiftAssignmentListCreateApi(TenantApi):
    filterset_class = ShiftAssignmentFilter
    ordering_fields = ("created_at", "valid_from")

    def get_queryset(self) -> QuerySet[ShiftAssignment]:
        return ShiftAssignment.objects.none()

    @extend_schema(
        responses={200: ShiftAssignmentOutputSerializer(many=True), 400: ERROR, 403: ERROR}
    )
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.shift_assignment_list(actor=self.actor), ShiftAssignmentOutputSerializer
        )

    @extend_schema(
        request=ShiftAssignmentInputSerializer,
        responses={201: ShiftAssignmentOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """A second assignment of the same employee starting on the same day is a 409
        ``hr.assignment_exists``; where assignments overlap, the later start wins."""
        payload = ShiftAssignmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignment = services.shift_assignment_create(actor=self.actor, **payload.validated_data)
        return Response(
            ShiftAssignmentOutputSerializer(assignment).data, status=status.HTTP_201_CREATED
        )


class ShiftAssignmentDetailApi(TenantApi):
    @extend_schema(responses={200: ShiftAssignmentOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, assignment_id: str) -> Response:
        assignment = selectors.shift_assignment_get(actor=self.actor, assignment_id=assignment_id)
        return Response(ShiftAssignmentOutputSerializer(assignment).data)

    @extend_schema(
        request=ShiftAssignmentInputSerializer(partial=True),
        responses={
            200: ShiftAssignmentOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, assignment_id: str) -> Response:
        assignment = selectors.shift_assignment_get(actor=self.actor, assignment_id=assignment_id)
        payload = ShiftAssignmentInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        assignment = services.shift_assignment_update(
            actor=self.actor, assignment=assignment, data=payload.validated_data
        )
        return Response(ShiftAssignmentOutputSerializer(assignment).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, assignment_id: str) -> Response:
        assignment = selectors.shift_assignment_get(actor=self.actor, assignment_id=assignment_id)
        services.shift_assignment_delete(actor=self.actor, assignment=assignment)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- roster --------------------------------------------------------------------------------


class RosterQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(
        required=False, help_text="First day (local dates); default today."
    )
    date_to = serializers.DateField(
        required=False, help_text="Last day, inclusive; default six days after date_from."
    )
    employee = serializers.UUIDField(required=False, help_text="Only this employee.")

    def to_internal_value(self, data: Any) -> Any:
        # DRF reads ``?employee=`` from a query string as "not given"; it is a value
        # outside the documented format, and is refused like one.
        empty = [name for name in self.fields if data.get(name) == ""]
        if empty:
            raise serializers.ValidationError({name: ["May not be empty."] for name in empty})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        earliest, latest = selectors.EARLIEST_DATE, selectors.LATEST_DATE
        date_from = attrs.get("date_from") or timezone.localdate()
        if not earliest <= date_from <= latest:
            raise serializers.ValidationError({"date_from": ["Between 1900 and 2199."]})
        date_to = attrs.get("date_to") or min(date_from + timedelta(days=6), latest)
        if not earliest <= date_to <= latest:
            raise serializers.ValidationError({"date_to": ["Between 1900 and 2199."]})
        if date_to < date_from:
            raise serializers.ValidationError({"date_to": ["Cannot be before date_from."]})
        if (date_to - date_from).days + 1 > selectors.ROSTER_MAX_DAYS:
            raise serializers.ValidationError(
                {"date_to": [f"At most {selectors.ROSTER_MAX_DAYS} days per request."]}
            )
        return {**attrs, "date_from": date_from, "date_to": date_to}


class RosterDaySerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    shift = serializers.UUIDField(source="shift.pk")
    shift_name = serializers.CharField(source="shift.name")
    start_at = serializers.DateTimeField(help_text="Scheduled start, UTC.")
    end_at = serializers.DateTimeField(help_text="Scheduled end, UTC.")


class RosterEmployeeSerializer(serializers.Serializer):
    employee = serializers.UUIDField(source="employee.pk")
    employee_name = serializers.CharField(source="employee.full_name")
    time_zone = serializers.CharField(source="employee.work_time_zone")
    days = RosterDaySerializer(many=True, help_text="Rostered days only; days off are absent.")


class RosterApi(TenantApi):
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[Employee]:
        return Employee.objects.none()

    @extend_schema(
        parameters=[RosterQuerySerializer],
        responses={200: RosterEmployeeSerializer(many=True), 400: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        """Per employee (the ones the caller may see, paginated), each rostered day in the
        range with its shift and its scheduled window in UTC, computed in the employee's
        work time zone. At most 62 days per request."""
        query = RosterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        employees = selectors.roster_employees(actor=self.actor, employee_id=params.get("employee"))
        page = self.paginate_queryset(employees) or []
        days = selectors.roster_days(
            employees=page, date_from=params["date_from"], date_to=params["date_to"]
        )
        rows = [{"employee": employee, "days": days[employee.pk]} for employee in page]
        return self.get_paginated_response(RosterEmployeeSerializer(rows, many=True).data)


# --- attendance ----------------------------------------------------------------------------


class AttendanceRecordOutputSerializer(serializers.ModelSerializer):
    employee = serializers.UUIDField(source="employee_id")
    employee_name = serializers.CharField(source="employee.full_name")
    time_zone = serializers.CharField(
        source="employee.work_time_zone", help_text="The employee's work time zone."
    )
    shift = serializers.UUIDField(source="shift_id", allow_null=True)
    check_in_location = serializers.UUIDField(source="check_in_location_id", allow_null=True)
    check_out_location = serializers.UUIDField(source="check_out_location_id", allow_null=True)

    class Meta:
        model = AttendanceRecord
        fields = (
            "id",
            "employee",
            "employee_name",
            "time_zone",
            "work_date",
            "shift",
            "scheduled_start_at",
            "scheduled_end_at",
            "state",
            "approval",
            "needs_review",
            "check_in_at",
            "check_out_at",
            "punched_in_at",
            "punched_out_at",
            "check_in_latitude",
            "check_in_longitude",
            "check_in_accuracy_m",
            "check_in_location",
            "check_out_latitude",
            "check_out_longitude",
            "check_out_accuracy_m",
            "check_out_location",
            "worked_minutes",
            "late_minutes",
            "early_leave_minutes",
            "overtime_minutes",
            "created_at",
            "updated_at",
        )


class PunchInputSerializer(StrictSerializer):
    latitude = StrictFloatField(min_value=-90, max_value=90, help_text="Degrees, WGS 84.")
    longitude = StrictFloatField(min_value=-180, max_value=180, help_text="Degrees, WGS 84.")
    accuracy_m = StrictFloatField(
        min_value=0,
        max_value=100_000,
        help_text="The device's reported accuracy radius, metres.",
    )


class AttendanceFilter(filters.FilterSet):
    employee = StrictUUIDFilter(field_name="employee_id")
    date_from = StrictDateFilter(field_name="work_date", lookup_expr="gte")
    date_to = StrictDateFilter(field_name="work_date", lookup_expr="lte")
    state = StrictChoiceFilter(choices=AttendanceRecord.State.choices)
    approval = StrictChoiceFilter(choices=AttendanceRecord.Approval.choices)
    needs_review = StrictBooleanFilter()

    class Meta:
        model = AttendanceRecord
        fields = ("employee", "date_from", "date_to", "state", "approval", "needs_review")


class AttendanceListApi(TenantApi):
    filterset_class = AttendanceFilter
    ordering_fields = ("created_at", "check_in_at")

    def get_queryset(self) -> QuerySet[AttendanceRecord]:
        return AttendanceRecord.objects.none()

    @extend_schema(
        responses={200: AttendanceRecordOutputSerializer(many=True), 400: ERROR, 403: ERROR}
    )
    def get(self, request: Request) -> Response:
        """Records the caller may see: their own, their reports' (at any depth), or all
        for HR admins. ``date_from`` / ``date_to`` filter the work date."""
        return self.list_response(
            selectors.attendance_list(actor=self.actor), AttendanceRecordOutputSerializer
        )


class AttendanceCheckInApi(TenantApi):
    @extend_schema(
        request=PunchInputSerializer,
        responses={201: AttendanceRecordOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """Checks the caller in at the server's time. Outside every allowed work location:
        403 ``hr.outside_geofence`` (nothing stored) or, when the tenant's policy says so,
        201 with ``approval: pending``. 409 ``hr.already_checked_in`` while checked in;
        403 ``hr.no_employee_record`` for an account without an employee."""
        payload = PunchInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = services.attendance_check_in(actor=self.actor, **payload.validated_data)
        return Response(
            AttendanceRecordOutputSerializer(record).data, status=status.HTTP_201_CREATED
        )


class AttendanceCheckOutApi(TenantApi):
    @extend_schema(
        request=PunchInputSerializer,
        responses={200: AttendanceRecordOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """Checks the caller out at the server's time and computes worked, late,
        early-leave and overtime minutes. 409 ``hr.no_open_shift`` when not checked in."""
        payload = PunchInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = services.attendance_check_out(actor=self.actor, **payload.validated_data)
        return Response(AttendanceRecordOutputSerializer(record).data)


class AttendanceDetailApi(TenantApi):
    @extend_schema(responses={200: AttendanceRecordOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, record_id: str) -> Response:
        record = selectors.attendance_get(actor=self.actor, record_id=record_id)
        return Response(AttendanceRecordOutputSerializer(record).data)


class AttendanceApproveApi(TenantApi):
    @extend_schema(
        request=None,
        responses={200: AttendanceRecordOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, record_id: str) -> Response:
        """Accepts a punch made outside the fences (approval ``pending``): a manager of the
        employee at any depth, or an HR admin. 409 ``hr.attendance_not_pending``."""
        record = selectors.attendance_get(actor=self.actor, record_id=record_id)
        record = services.attendance_approve(actor=self.actor, record=record)
        return Response(AttendanceRecordOutputSerializer(record).data)


class AttendanceRejectApi(TenantApi):
    @extend_schema(
        request=None,
        responses={200: AttendanceRecordOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, record_id: str) -> Response:
        """Refuses a pending punch; the record stays, marked ``rejected``."""
        record = selectors.attendance_get(actor=self.actor, record_id=record_id)
        record = services.attendance_reject(actor=self.actor, record=record)
        return Response(AttendanceRecordOutputSerializer(record).data)


class AttendanceCorrectionOutputSerializer(serializers.ModelSerializer):
    record = serializers.UUIDField(source="record_id")
    corrected_by = serializers.UUIDField(source="corrected_by_id", allow_null=True)
    corrected_by_username = serializers.CharField(
        source="corrected_by.username", allow_null=True, default=None
    )

    class Meta:
        model = AttendanceCorrection
        fields = (
            "id",
            "record",
            "previous_check_in_at",
            "previous_check_out_at",
            "check_in_at",
            "check_out_at",
            "reason",
            "corrected_by",
            "corrected_by_username",
            "created_at",
        )


class AttendanceCorrectionInputSerializer(StrictSerializer):
    check_in_at = AwareDateTimeField(help_text="ISO 8601 with offset.")
    check_out_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="ISO 8601 with offset; may be left out only while the record is open.",
    )
    reason = serializers.CharField(max_length=500)


class AttendanceCorrectionListCreateApi(TenantApi):
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[AttendanceCorrection]:
        return AttendanceCorrection.objects.none()

    @extend_schema(
        responses={200: AttendanceCorrectionOutputSerializer(many=True), 403: ERROR, 404: ERROR}
    )
    def get(self, request: Request, record_id: str) -> Response:
        """The corrections of a record, newest first."""
        record = selectors.attendance_get(actor=self.actor, record_id=record_id)
        return self.list_response(
            selectors.attendance_correction_list(actor=self.actor, record=record),
            AttendanceCorrectionOutputSerializer,
        )

    @extend_schema(
        request=AttendanceCorrectionInputSerializer,
        responses={
            201: AttendanceCorrectionOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    def post(self, request: Request, record_id: str) -> Response:
        """A manager's correction: the punches as made stay, the figures in force change,
        the minutes are recomputed and ``needs_review`` clears."""
        record = selectors.attendance_get(actor=self.actor, record_id=record_id)
        payload = AttendanceCorrectionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        correction = services.attendance_correct(
            actor=self.actor, record=record, **payload.validated_data
        )
        return Response(
            AttendanceCorrectionOutputSerializer(correction).data, status=status.HTTP_201_CREATED
        )
