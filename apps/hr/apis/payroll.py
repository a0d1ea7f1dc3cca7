"""HR payroll API: salary components, structures and assignments; payroll runs (computed
in the background, recomputable until approved); payslips with their lines and PDFs."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.serializers import StrictSerializer
from apps.core.api.views import TenantApi
from apps.hr.errors import PayslipNotReadyError
from apps.hr.models import PayrollRun, Payslip, SalaryAssignment, SalaryComponent, SalaryStructure
from apps.hr.selectors import payroll as selectors
from apps.hr.services import payroll as services

ERROR = OpenApiResponse(description="Error (see the Error schema)", response=None)
MONEY = {"max_digits": 12, "decimal_places": 2}


# Inline enums: a named enum component ("KindEnum") would clash with other models' kinds.
@extend_schema_field({"type": "string", "enum": SalaryComponent.Kind.values})
class ComponentKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=SalaryComponent.Kind.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": SalaryComponent.Calculation.values})
class ComponentCalculationField(serializers.ChoiceField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=SalaryComponent.Calculation.choices, **kwargs)


# --- components ----------------------------------------------------------------------------


class SalaryComponentOutputSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="earning or deduction.")
    calculation = serializers.CharField(help_text="fixed, percentage or formula.")
    base_component = serializers.UUIDField(source="base_component_id", allow_null=True)

    class Meta:
        model = SalaryComponent
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "calculation",
            "amount",
            "is_prorated",
            "percentage",
            "base_component",
            "formula",
            "created_at",
            "updated_at",
        )


class SalaryComponentInputSerializer(StrictSerializer):
    code = serializers.CharField(
        max_length=32, help_text="Name in formulas: a-z, 0-9 and _, starting with a letter."
    )
    name = serializers.CharField(max_length=120)
    kind = ComponentKindField()
    calculation = ComponentCalculationField()
    amount = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, min_value=-(10**9), max_value=10**9
    )
    is_prorated = serializers.BooleanField(
        required=False, help_text="Fixed amounts: pay a joiner's or leaver's share only."
    )
    percentage = serializers.DecimalField(
        max_digits=7,
        decimal_places=4,
        required=False,
        allow_null=True,
        min_value=-1000,
        max_value=1000,
    )
    base_component = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Percentage of this component; of the earned base pay when empty.",
    )
    formula = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Other components' codes and the inputs "
        + ", ".join(services.FORMULA_INPUTS)
        + "; + - * / ( ), min(), max(), round().",
    )


class SalaryComponentListCreateApi(TenantApi):
    ordering_fields = ("created_at", "code")

    def get_queryset(self) -> QuerySet[SalaryComponent]:
        return SalaryComponent.objects.none()

    @extend_schema(responses={200: SalaryComponentOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.salary_component_list(actor=self.actor), SalaryComponentOutputSerializer
        )

    @extend_schema(
        request=SalaryComponentInputSerializer,
        responses={201: SalaryComponentOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """A formula with a syntax error, an unknown name, a cycle or a certain division by
        zero is a 400 ``hr.formula_invalid``, ``hr.formula_unknown_component``,
        ``hr.formula_cycle`` or ``hr.formula_division_by_zero``."""
        payload = SalaryComponentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        component = services.salary_component_create(actor=self.actor, **payload.validated_data)
        return Response(
            SalaryComponentOutputSerializer(component).data, status=status.HTTP_201_CREATED
        )


class SalaryComponentDetailApi(TenantApi):
    @extend_schema(responses={200: SalaryComponentOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, component_id: str) -> Response:
        component = selectors.salary_component_get(actor=self.actor, component_id=component_id)
        return Response(SalaryComponentOutputSerializer(component).data)

    @extend_schema(
        request=SalaryComponentInputSerializer(partial=True),
        responses={
            200: SalaryComponentOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, component_id: str) -> Response:
        component = selectors.salary_component_get(actor=self.actor, component_id=component_id)
        payload = SalaryComponentInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        component = services.salary_component_update(
            actor=self.actor, component=component, data=payload.validated_data
        )
        return Response(SalaryComponentOutputSerializer(component).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, component_id: str) -> Response:
        component = selectors.salary_component_get(actor=self.actor, component_id=component_id)
        services.salary_component_delete(actor=self.actor, component=component)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- structures ----------------------------------------------------------------------------


class SalaryStructureOutputSerializer(serializers.ModelSerializer):
    components = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SalaryStructure
        fields = ("id", "name", "description", "components", "created_at", "updated_at")


class SalaryStructureInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    components = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=100, default=list
    )


class SalaryStructureListCreateApi(TenantApi):
    ordering_fields = ("created_at", "name")

    def get_queryset(self) -> QuerySet[SalaryStructure]:
        return SalaryStructure.objects.none()

    @extend_schema(responses={200: SalaryStructureOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.salary_structure_list(actor=self.actor), SalaryStructureOutputSerializer
        )

    @extend_schema(
        request=SalaryStructureInputSerializer,
        responses={201: SalaryStructureOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """A member whose formula needs a component outside the structure is a 400
        ``hr.formula_unknown_component``."""
        payload = SalaryStructureInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        structure = services.salary_structure_create(actor=self.actor, **payload.validated_data)
        return Response(
            SalaryStructureOutputSerializer(structure).data, status=status.HTTP_201_CREATED
        )


class SalaryStructureDetailApi(TenantApi):
    @extend_schema(responses={200: SalaryStructureOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, structure_id: str) -> Response:
        structure = selectors.salary_structure_get(actor=self.actor, structure_id=structure_id)
        return Response(SalaryStructureOutputSerializer(structure).data)

    @extend_schema(
        request=SalaryStructureInputSerializer(partial=True),
        responses={
            200: SalaryStructureOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, structure_id: str) -> Response:
        structure = selectors.salary_structure_get(actor=self.actor, structure_id=structure_id)
        payload = SalaryStructureInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        structure = services.salary_structure_update(
            actor=self.actor, structure=structure, data=payload.validated_data
        )
        return Response(SalaryStructureOutputSerializer(structure).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, structure_id: str) -> Response:
        structure = selectors.salary_structure_get(actor=self.actor, structure_id=structure_id)
        services.salary_structure_delete(actor=self.actor, structure=structure)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- assignments ---------------------------------------------------------------------------


class SalaryAssignmentOutputSerializer(serializers.ModelSerializer):
    employee = serializers.UUIDField(source="employee_id")
    structure = serializers.UUIDField(source="structure_id")

    class Meta:
        model = SalaryAssignment
        fields = (
            "id",
            "employee",
            "structure",
            "base_pay",
            "effective_from",
            "created_at",
            "updated_at",
        )


class SalaryAssignmentInputSerializer(StrictSerializer):
    employee = serializers.UUIDField()
    structure = serializers.UUIDField()
    base_pay = serializers.DecimalField(
        **MONEY, min_value=0, max_value=10**9, help_text="Monthly base pay."
    )
    effective_from = serializers.DateField()


class SalaryAssignmentListCreateApi(TenantApi):
    ordering_fields = ("created_at", "effective_from")

    def get_queryset(self) -> QuerySet[SalaryAssignment]:
        return SalaryAssignment.objects.none()

    @extend_schema(responses={200: SalaryAssignmentOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        """HR admins see every assignment; others their own."""
        return self.list_response(
            selectors.salary_assignment_list(actor=self.actor), SalaryAssignmentOutputSerializer
        )

    @extend_schema(
        request=SalaryAssignmentInputSerializer,
        responses={201: SalaryAssignmentOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """A second assignment of one employee starting the same day is a 409
        ``hr.salary_assignment_exists``."""
        payload = SalaryAssignmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignment = services.salary_assignment_create(actor=self.actor, **payload.validated_data)
        return Response(
            SalaryAssignmentOutputSerializer(assignment).data, status=status.HTTP_201_CREATED
        )


class SalaryAssignmentDetailApi(TenantApi):
    @extend_schema(responses={200: SalaryAssignmentOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, assignment_id: str) -> Response:
        assignment = selectors.salary_assignment_get(actor=self.actor, assignment_id=assignment_id)
        return Response(SalaryAssignmentOutputSerializer(assignment).data)

    @extend_schema(
        request=SalaryAssignmentInputSerializer(partial=True),
        responses={
            200: SalaryAssignmentOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def patch(self, request: Request, assignment_id: str) -> Response:
        assignment = selectors.salary_assignment_get(actor=self.actor, assignment_id=assignment_id)
        payload = SalaryAssignmentInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        assignment = services.salary_assignment_update(
            actor=self.actor, assignment=assignment, data=payload.validated_data
        )
        return Response(SalaryAssignmentOutputSerializer(assignment).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, assignment_id: str) -> Response:
        assignment = selectors.salary_assignment_get(actor=self.actor, assignment_id=assignment_id)
        services.salary_assignment_delete(actor=self.actor, assignment=assignment)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- runs ----------------------------------------------------------------------------------


class PayrollRunOutputSerializer(serializers.ModelSerializer):
    period = serializers.SerializerMethodField()
    status = serializers.CharField(
        help_text="draft, computing, computed, failed or approved (locked)."
    )
    job = serializers.UUIDField(source="job_id", allow_null=True)
    progress = serializers.SerializerMethodField()
    approved_by = serializers.UUIDField(source="approved_by_id", allow_null=True)

    class Meta:
        model = PayrollRun
        fields = (
            "id",
            "period",
            "status",
            "job",
            "progress",
            "currency",
            "employee_count",
            "error_count",
            "gross_total",
            "deduction_total",
            "net_total",
            "error_code",
            "error_message",
            "computed_at",
            "approved_by",
            "approved_at",
            "created_at",
            "updated_at",
        )

    def get_period(self, run: PayrollRun) -> str:
        return f"{run.period:%Y-%m}"

    @extend_schema_field(OpenApiTypes.INT)
    def get_progress(self, run: PayrollRun) -> int:
        if run.status in (PayrollRun.Status.COMPUTED, PayrollRun.Status.APPROVED):
            return 100
        return run.job.progress if run.job is not None else 0


class PayrollRunInputSerializer(StrictSerializer):
    period = serializers.RegexField(
        r"^\d{4}-\d{2}$", max_length=7, help_text="The month, YYYY-MM (e.g. 2026-03)."
    )


class PayrollRunListCreateApi(TenantApi):
    ordering_fields = ("created_at", "period")

    def get_queryset(self) -> QuerySet[PayrollRun]:
        return PayrollRun.objects.none()

    @extend_schema(responses={200: PayrollRunOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        return self.list_response(
            selectors.payroll_run_list(actor=self.actor), PayrollRunOutputSerializer
        )

    @extend_schema(
        request=PayrollRunInputSerializer,
        responses={202: PayrollRunOutputSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request: Request) -> Response:
        """Creates the month's run and starts its computation (a job: follow
        /jobs/{job}/ or this run). A month already approved is a 409 ``hr.payroll_locked``;
        one with a run still open a 409 ``hr.payroll_run_exists``."""
        payload = PayrollRunInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        period = services.period_parse(payload.validated_data["period"])
        run = services.payroll_run_start(actor=self.actor, period=period)
        return Response(PayrollRunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class PayrollRunDetailApi(TenantApi):
    @extend_schema(responses={200: PayrollRunOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, run_id: str) -> Response:
        run = selectors.payroll_run_get(actor=self.actor, run_id=run_id)
        return Response(PayrollRunOutputSerializer(run).data)


class PayrollRunRecomputeApi(TenantApi):
    @extend_schema(
        request=None,
        responses={202: PayrollRunOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, run_id: str) -> Response:
        """Computes the run again from current data (same payslip ids, lines replaced). An
        approved run is a 409 ``hr.payroll_locked``."""
        run = selectors.payroll_run_get(actor=self.actor, run_id=run_id)
        run = services.payroll_run_recompute(actor=self.actor, run=run)
        return Response(PayrollRunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class PayrollRunApproveApi(TenantApi):
    @extend_schema(
        request=None,
        responses={200: PayrollRunOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, run_id: str) -> Response:
        """Locks the run; its payslips' PDFs are then generated and the employees emailed
        in the background. Only a computed run without errors can be approved."""
        run = selectors.payroll_run_get(actor=self.actor, run_id=run_id)
        run = services.payroll_run_approve(
            actor=self.actor, run=run, payslips_url=request.build_absolute_uri("/hr/payslips/")
        )
        return Response(PayrollRunOutputSerializer(run).data)


# --- payslips ------------------------------------------------------------------------------


class PayslipLineOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(help_text="earning or deduction.")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    explanation = serializers.CharField()


class PayslipOutputSerializer(serializers.ModelSerializer):
    run = serializers.UUIDField(source="run_id")
    period = serializers.SerializerMethodField()
    currency = serializers.CharField(source="run.currency")
    employee = serializers.UUIDField(source="employee_id")
    employee_number = serializers.CharField(source="employee.employee_number")
    employee_name = serializers.CharField(source="employee.full_name")
    has_pdf = serializers.SerializerMethodField()

    class Meta:
        model = Payslip
        fields = (
            "id",
            "run",
            "period",
            "currency",
            "employee",
            "employee_number",
            "employee_name",
            "structure_name",
            "base_pay",
            "days_in_period",
            "working_days",
            "employed_days",
            "unpaid_leave_days",
            "absent_days",
            "overtime_hours",
            "gross",
            "deductions",
            "net",
            "error_code",
            "error_message",
            "has_pdf",
            "pdf_generated_at",
            "emailed_at",
            "created_at",
            "updated_at",
        )

    def get_period(self, payslip: Payslip) -> str:
        return f"{payslip.run.period:%Y-%m}"

    def get_has_pdf(self, payslip: Payslip) -> bool:
        return bool(payslip.pdf)


class PayslipDetailOutputSerializer(PayslipOutputSerializer):
    lines = PayslipLineOutputSerializer(many=True, read_only=True)

    class Meta(PayslipOutputSerializer.Meta):
        fields = (*PayslipOutputSerializer.Meta.fields, "lines")


class PayslipListApi(TenantApi):
    ordering_fields = ("created_at",)

    def get_queryset(self) -> QuerySet[Payslip]:
        return Payslip.objects.none()

    @extend_schema(responses={200: PayslipOutputSerializer(many=True), 403: ERROR})
    def get(self, request: Request) -> Response:
        """HR admins see every payslip; employees their own, once the run is approved."""
        return self.list_response(selectors.payslip_list(actor=self.actor), PayslipOutputSerializer)


class PayslipDetailApi(TenantApi):
    @extend_schema(responses={200: PayslipDetailOutputSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, payslip_id: str) -> Response:
        """The payslip with its lines, each explaining its figure. Someone else's payslip
        is a 404."""
        payslip = selectors.payslip_get(actor=self.actor, payslip_id=payslip_id)
        return Response(PayslipDetailOutputSerializer(payslip).data)


class PayslipPdfApi(TenantApi):
    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def get(self, request: Request, payslip_id: str) -> FileResponse:
        """The payslip as a PDF; 409 ``hr.payslip_not_ready`` until it is generated (after
        the run's approval). Someone else's payslip is a 404."""
        payslip = selectors.payslip_get(actor=self.actor, payslip_id=payslip_id)
        if not payslip.pdf or not default_storage.exists(payslip.pdf.name):
            raise PayslipNotReadyError(payslip_id=str(payslip.pk))
        response = FileResponse(
            default_storage.open(payslip.pdf.name, "rb"),
            as_attachment=True,
            filename=f"payslip-{payslip.run.period:%Y-%m}-{payslip.employee.employee_number}.pdf",
            content_type="application/pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response
