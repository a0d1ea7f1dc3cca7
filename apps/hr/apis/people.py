from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.filters import StrictBooleanFilter, StrictUUIDFilter
from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.hr import selectors, services
from apps.hr.models import Department, Employee, Position, WorkLocation

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)
NAME_MAX = 120


# --- departments ---------------------------------------------------------------------------


class DepartmentOutputSerializer(serializers.ModelSerializer):
    parent = serializers.UUIDField(source="parent_id", allow_null=True)

    class Meta:
        model = Department
        fields = ("id", "name", "parent", "created_at", "updated_at")


class DepartmentInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=NAME_MAX)
    parent = serializers.UUIDField(required=False, allow_null=True, default=None)


class DepartmentListCreateApi(TenantApi):
    ordering_fields = ("created_at", "name")

    def get_queryset(self) -> QuerySet[Department]:
        return Department.objects.none()

    @extend_schema(responses={200: DepartmentOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.department_list(actor=self.actor), DepartmentOutputSerializer
        )

    @extend_schema(
        request=DepartmentInputSerializer,
        responses={201: DepartmentOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = DepartmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        department = services.department_create(
            actor=self.actor, name=data["name"], parent_id=data["parent"]
        )
        return Response(DepartmentOutputSerializer(department).data, status=status.HTTP_201_CREATED)


class DepartmentDetailApi(TenantApi):
    @extend_schema(responses={200: DepartmentOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, department_id: str) -> Response:
        department = selectors.department_get(actor=self.actor, department_id=department_id)
        return Response(DepartmentOutputSerializer(department).data)

    @extend_schema(
        request=DepartmentInputSerializer(partial=True),
        responses={200: DepartmentOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, department_id: str) -> Response:
        """Moving a department under one of its own sub-departments is a 409
        ``hr.department_cycle``."""
        department = selectors.department_get(actor=self.actor, department_id=department_id)
        payload = DepartmentInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        department = services.department_update(
            actor=self.actor, department=department, data=payload.validated_data
        )
        return Response(DepartmentOutputSerializer(department).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, department_id: str) -> Response:
        department = selectors.department_get(actor=self.actor, department_id=department_id)
        services.department_delete(actor=self.actor, department=department)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- positions -----------------------------------------------------------------------------


class PositionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Position
        fields = ("id", "title", "description", "created_at", "updated_at")


class PositionInputSerializer(StrictSerializer):
    title = serializers.CharField(max_length=NAME_MAX)
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class PositionListCreateApi(TenantApi):
    ordering_fields = ("created_at", "title")

    def get_queryset(self) -> QuerySet[Position]:
        return Position.objects.none()

    @extend_schema(responses={200: PositionOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.position_list(actor=self.actor), PositionOutputSerializer
        )

    @extend_schema(
        request=PositionInputSerializer,
        responses={201: PositionOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = PositionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        position = services.position_create(
            actor=self.actor, title=data["title"], description=data["description"]
        )
        return Response(PositionOutputSerializer(position).data, status=status.HTTP_201_CREATED)


class PositionDetailApi(TenantApi):
    @extend_schema(responses={200: PositionOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, position_id: str) -> Response:
        position = selectors.position_get(actor=self.actor, position_id=position_id)
        return Response(PositionOutputSerializer(position).data)

    @extend_schema(
        request=PositionInputSerializer(partial=True),
        responses={200: PositionOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, position_id: str) -> Response:
        position = selectors.position_get(actor=self.actor, position_id=position_id)
        payload = PositionInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        position = services.position_update(
            actor=self.actor, position=position, data=payload.validated_data
        )
        return Response(PositionOutputSerializer(position).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, position_id: str) -> Response:
        position = selectors.position_get(actor=self.actor, position_id=position_id)
        services.position_delete(actor=self.actor, position=position)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- work locations ------------------------------------------------------------------------


class WorkLocationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkLocation
        fields = (
            "id",
            "name",
            "address",
            "latitude",
            "longitude",
            "radius_m",
            "time_zone",
            "created_at",
            "updated_at",
        )


class WorkLocationInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=NAME_MAX)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, coerce_to_string=False
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, coerce_to_string=False
    )
    radius_m = serializers.IntegerField(
        min_value=1, max_value=100_000, help_text="Geofence radius in metres."
    )
    time_zone = serializers.CharField(max_length=64, help_text="IANA name, e.g. Europe/London.")


class WorkLocationListCreateApi(TenantApi):
    ordering_fields = ("created_at", "name")

    def get_queryset(self) -> QuerySet[WorkLocation]:
        return WorkLocation.objects.none()

    @extend_schema(responses={200: WorkLocationOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.work_location_list(actor=self.actor), WorkLocationOutputSerializer
        )

    @extend_schema(
        request=WorkLocationInputSerializer,
        responses={201: WorkLocationOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = WorkLocationInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        location = services.work_location_create(actor=self.actor, **payload.validated_data)
        return Response(WorkLocationOutputSerializer(location).data, status=status.HTTP_201_CREATED)


class WorkLocationDetailApi(TenantApi):
    @extend_schema(responses={200: WorkLocationOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, location_id: str) -> Response:
        location = selectors.work_location_get(actor=self.actor, location_id=location_id)
        return Response(WorkLocationOutputSerializer(location).data)

    @extend_schema(
        request=WorkLocationInputSerializer(partial=True),
        responses={
            200: WorkLocationOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, location_id: str) -> Response:
        location = selectors.work_location_get(actor=self.actor, location_id=location_id)
        payload = WorkLocationInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        location = services.work_location_update(
            actor=self.actor, location=location, data=payload.validated_data
        )
        return Response(WorkLocationOutputSerializer(location).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, location_id: str) -> Response:
        location = selectors.work_location_get(actor=self.actor, location_id=location_id)
        services.work_location_delete(actor=self.actor, location=location)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- employees -----------------------------------------------------------------------------


class EmployeeOutputSerializer(serializers.ModelSerializer):
    department = serializers.UUIDField(source="department_id", allow_null=True)
    position = serializers.UUIDField(source="position_id", allow_null=True)
    manager = serializers.UUIDField(source="manager_id", allow_null=True)
    user = serializers.UUIDField(source="user_id", allow_null=True)
    allowed_locations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    is_active = serializers.BooleanField()

    class Meta:
        model = Employee
        fields = (
            "id",
            "employee_number",
            "first_name",
            "last_name",
            "email",
            "phone",
            "department",
            "position",
            "manager",
            "employment_start",
            "employment_end",
            "work_time_zone",
            "user",
            "allowed_locations",
            "is_geofence_exempt",
            "is_active",
            "created_at",
            "updated_at",
        )


class EmployeeInputSerializer(StrictSerializer):
    employee_number = serializers.CharField(max_length=32)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="International form (+44 20 7946 0958); stored as E.164.",
    )
    department = serializers.UUIDField(required=False, allow_null=True)
    position = serializers.UUIDField(required=False, allow_null=True)
    manager = serializers.UUIDField(required=False, allow_null=True)
    employment_start = serializers.DateField()
    employment_end = serializers.DateField(required=False, allow_null=True)
    work_time_zone = serializers.CharField(
        max_length=64, required=False, help_text="IANA name; defaults to UTC."
    )
    user = serializers.UUIDField(
        required=False, allow_null=True, help_text="User account for self-service."
    )
    allowed_locations = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=100
    )
    is_geofence_exempt = serializers.BooleanField(required=False)


class EmployeeFilter(filters.FilterSet):
    department = StrictUUIDFilter(field_name="department_id")
    manager = StrictUUIDFilter(field_name="manager_id")
    is_active = StrictBooleanFilter(method="filter_is_active")

    class Meta:
        model = Employee
        fields = ("department", "manager", "is_active")

    def filter_is_active(
        self, queryset: QuerySet[Employee], name: str, value: bool
    ) -> QuerySet[Employee]:
        current = Q(employment_end__isnull=True) | Q(employment_end__gte=timezone.localdate())
        return queryset.filter(current) if value else queryset.exclude(current)


class EmployeeListCreateApi(TenantApi):
    filterset_class = EmployeeFilter
    ordering_fields = ("created_at", "employee_number")

    def get_queryset(self) -> QuerySet[Employee]:
        return Employee.objects.none()

    @extend_schema(responses={200: EmployeeOutputSerializer(many=True), 400: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        """Employees the caller may see: HR admins everyone, others themselves and their
        reports (at any depth)."""
        return self.list_response(
            selectors.employee_list(actor=self.actor), EmployeeOutputSerializer
        )

    @extend_schema(
        request=EmployeeInputSerializer,
        responses={201: EmployeeOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        payload = EmployeeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        employee = services.employee_create(actor=self.actor, **payload.validated_data)
        return Response(EmployeeOutputSerializer(employee).data, status=status.HTTP_201_CREATED)


class EmployeeMeApi(TenantApi):
    @extend_schema(responses={200: EmployeeOutputSerializer, 404: ERROR})
    def get(self, request: Request) -> Response:
        """The caller's own employee record; 404 when their account is not linked to one."""
        employee = selectors.employee_get_own(actor=self.actor)
        return Response(EmployeeOutputSerializer(employee).data)


class EmployeeDetailApi(TenantApi):
    @extend_schema(responses={200: EmployeeOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, employee_id: str) -> Response:
        employee = selectors.employee_get(actor=self.actor, employee_id=employee_id)
        return Response(EmployeeOutputSerializer(employee).data)

    @extend_schema(
        request=EmployeeInputSerializer(partial=True),
        responses={200: EmployeeOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def patch(self, request: Request, employee_id: str) -> Response:
        """A manager who reports to this employee (at any depth) is a 409
        ``hr.manager_cycle``."""
        employee = selectors.employee_get(actor=self.actor, employee_id=employee_id)
        payload = EmployeeInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        employee = services.employee_update(
            actor=self.actor, employee=employee, data=payload.validated_data
        )
        return Response(EmployeeOutputSerializer(employee).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, employee_id: str) -> Response:
        """Soft delete; refused (409 ``hr.employee_has_reports``) while anyone reports to
        this employee."""
        employee = selectors.employee_get(actor=self.actor, employee_id=employee_id)
        services.employee_delete(actor=self.actor, employee=employee)
        return Response(status=status.HTTP_204_NO_CONTENT)
