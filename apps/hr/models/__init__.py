"""HR tables, one module per sub-domain. Import models from here (``apps.hr.models``)."""

from apps.hr.models.attendance import (
    AttendanceCorrection,
    AttendanceRecord,
    HrPolicy,
    ShiftAssignment,
    ShiftTemplate,
)
from apps.hr.models.leave import (
    AccrualPolicy,
    LeaveLedgerEntry,
    LeaveRequest,
    LeaveType,
    TenantHoliday,
)
from apps.hr.models.payroll import *  # noqa: F403 - payroll's tables, owned by that module
from apps.hr.models.people import Department, Employee, Position, WorkLocation

__all__ = [
    "AccrualPolicy",
    "AttendanceCorrection",
    "AttendanceRecord",
    "Department",
    "Employee",
    "HrPolicy",
    "LeaveLedgerEntry",
    "LeaveRequest",
    "LeaveType",
    "Position",
    "ShiftAssignment",
    "ShiftTemplate",
    "TenantHoliday",
    "WorkLocation",
]
