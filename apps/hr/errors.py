from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError


class DepartmentCycleError(ApplicationError):
    code = "hr.department_cycle"
    http_status = 409
    message = _("A department cannot sit under itself or under one of its sub-departments.")


class DepartmentInUseError(ApplicationError):
    code = "hr.department_in_use"
    http_status = 409
    message = _("This department still has sub-departments or employees.")


class PositionInUseError(ApplicationError):
    code = "hr.position_in_use"
    http_status = 409
    message = _("Employees still hold this position.")


class ManagerCycleError(ApplicationError):
    code = "hr.manager_cycle"
    http_status = 409
    message = _("An employee cannot report to themselves or to one of their reports.")


class EmployeeHasReportsError(ApplicationError):
    code = "hr.employee_has_reports"
    http_status = 409
    message = _("Give this employee's reports another manager first.")


class NameTakenError(ApplicationError):
    code = "hr.name_taken"
    http_status = 409
    message = _("Another record already uses this name.")


class EmployeeNumberTakenError(ApplicationError):
    code = "hr.employee_number_taken"
    http_status = 409
    message = _("Another employee already has this employee number.")


class UserAlreadyLinkedError(ApplicationError):
    code = "hr.user_already_linked"
    http_status = 409
    message = _("This user account already belongs to another employee.")


# --- shifts and attendance -----------------------------------------------------------------


class NoEmployeeRecordError(ApplicationError):
    code = "hr.no_employee_record"
    http_status = 403
    message = _("Your account is not linked to an employee record.")


class EmployeeInactiveError(ApplicationError):
    code = "hr.employee_inactive"
    http_status = 403
    message = _("This employee is not employed on this date.")


class OutsideGeofenceError(ApplicationError):
    code = "hr.outside_geofence"
    http_status = 403
    message = _("You are not at a work location you may check in at.")


class AlreadyCheckedInError(ApplicationError):
    code = "hr.already_checked_in"
    http_status = 409
    message = _("You are already checked in; check out first.")


class NoOpenShiftError(ApplicationError):
    code = "hr.no_open_shift"
    http_status = 409
    message = _("You are not checked in.")


class NotManagerOfEmployeeError(ApplicationError):
    code = "hr.not_manager_of_employee"
    http_status = 403
    message = _("Only a manager of this employee or an HR admin may do this.")


class AttendanceNotPendingError(ApplicationError):
    code = "hr.attendance_not_pending"
    http_status = 409
    message = _("This attendance record is not waiting for approval.")


class ShiftInUseError(ApplicationError):
    code = "hr.shift_in_use"
    http_status = 409
    message = _("Assignments or attendance records still use this shift.")


class AssignmentExistsError(ApplicationError):
    code = "hr.assignment_exists"
    http_status = 409
    message = _("This employee already has an assignment starting on that date.")


# --- leave ---------------------------------------------------------------------------------


class LeaveOverlapsError(ApplicationError):
    code = "hr.leave_overlaps"
    http_status = 409
    message = _("This leave overlaps another pending or approved request of the employee.")


class InsufficientBalanceError(ApplicationError):
    # 409, not 422: the request is well formed; it conflicts with the balance as it
    # stands now, and may pass later (after an accrual or an adjustment).
    code = "hr.insufficient_balance"
    http_status = 409
    message = _("The leave balance does not cover this request.")


class LeaveInvalidTransitionError(ApplicationError):
    code = "hr.leave_invalid_transition"
    http_status = 409
    message = _("This leave request cannot make that change in its current status.")


class LeaveNoWorkingDaysError(ApplicationError):
    code = "hr.leave_no_working_days"
    http_status = 400
    message = _("This leave covers no working day (only weekends or holidays).")


class LeaveSelfApprovalError(ApplicationError):
    code = "hr.leave_self_approval"
    http_status = 403
    message = _("Nobody can approve or reject their own leave.")


class LeaveTypeInUseError(ApplicationError):
    code = "hr.leave_type_in_use"
    http_status = 409
    message = _("Requests or ledger entries use this leave type; deactivate it instead.")


class HolidayDateTakenError(ApplicationError):
    code = "hr.holiday_date_taken"
    http_status = 409
    message = _("The tenant already has a holiday on this date.")


class HolidayCalendarUnknownError(ApplicationError):
    code = "hr.holiday_calendar_unknown"
    http_status = 409
    message = _("The HR policy names a country or region without a public holiday calendar.")


# --- payroll -------------------------------------------------------------------------------


class FormulaInvalidError(ApplicationError):
    code = "hr.formula_invalid"
    http_status = 400
    message = _("The formula is not valid.")


class FormulaUnknownComponentError(ApplicationError):
    code = "hr.formula_unknown_component"
    http_status = 400
    message = _("The formula refers to a component or input that does not exist.")


class FormulaCycleError(ApplicationError):
    code = "hr.formula_cycle"
    http_status = 400
    message = _("Salary formulas refer to each other in a cycle.")


class FormulaDivisionByZeroError(ApplicationError):
    code = "hr.formula_division_by_zero"
    http_status = 400
    message = _("The formula divides by zero.")


class ComponentInUseError(ApplicationError):
    code = "hr.component_in_use"
    http_status = 409
    message = _("Structures or other components still use this component.")


class StructureInUseError(ApplicationError):
    code = "hr.structure_in_use"
    http_status = 409
    message = _("Employees are still assigned to this salary structure.")


class SalaryAssignmentExistsError(ApplicationError):
    code = "hr.salary_assignment_exists"
    http_status = 409
    message = _("This employee already has a salary assignment starting that day.")


class PayrollLockedError(ApplicationError):
    code = "hr.payroll_locked"
    http_status = 409
    message = _("The payroll of this period is approved and locked.")


class PayrollRunExistsError(ApplicationError):
    code = "hr.payroll_run_exists"
    http_status = 409
    message = _("A payroll run for this period exists already; recompute it instead.")


class PayrollComputingError(ApplicationError):
    code = "hr.payroll_computing"
    http_status = 409
    message = _("This payroll run is being computed right now.")


class PayrollNotComputedError(ApplicationError):
    code = "hr.payroll_not_computed"
    http_status = 409
    message = _("Only a computed payroll run without errors can be approved.")


class PayslipNotReadyError(ApplicationError):
    code = "hr.payslip_not_ready"
    http_status = 409
    message = _("This payslip's PDF has not been generated yet.")
