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
