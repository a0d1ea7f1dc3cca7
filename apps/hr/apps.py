from django.apps import AppConfig


class HrConfig(AppConfig):
    name = "apps.hr"
    label = "hr"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.hr.models import Department, Employee, Position, WorkLocation

        auditlog.register(Department, exclude_fields=["updated_at"])
        auditlog.register(Position, exclude_fields=["updated_at"])
        auditlog.register(WorkLocation, exclude_fields=["updated_at"])
        auditlog.register(Employee, m2m_fields={"allowed_locations"}, exclude_fields=["updated_at"])
        # Shifts and attendance: who changed a policy, a roster or a punch, and what.
        from apps.hr.models import (
            AttendanceCorrection,
            AttendanceRecord,
            HrPolicy,
            ShiftAssignment,
            ShiftTemplate,
        )

        for model in (
            HrPolicy,
            ShiftTemplate,
            ShiftAssignment,
            AttendanceRecord,
            AttendanceCorrection,
        ):
            auditlog.register(model, exclude_fields=["updated_at"])
        # Leave: types, policies, holidays, requests and the ledger (who decided what).
        from apps.hr.models import (
            AccrualPolicy,
            LeaveLedgerEntry,
            LeaveRequest,
            LeaveType,
            TenantHoliday,
        )

        for model in (AccrualPolicy, LeaveLedgerEntry, LeaveRequest, LeaveType, TenantHoliday):
            auditlog.register(model, exclude_fields=["updated_at"])
        # Payroll: who changed a component, a structure, someone's pay or a run's status.
        # Payslips and their lines are not logged: a run rewrites thousands of them and
        # they are reproducible from these rows.
        from apps.hr.models import PayrollRun, SalaryAssignment, SalaryComponent, SalaryStructure

        auditlog.register(SalaryComponent, exclude_fields=["updated_at"])
        auditlog.register(SalaryStructure, m2m_fields={"components"}, exclude_fields=["updated_at"])
        auditlog.register(SalaryAssignment, exclude_fields=["updated_at"])
        auditlog.register(PayrollRun, exclude_fields=["updated_at"])
