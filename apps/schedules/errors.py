from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError


class ScheduleNameTakenError(ApplicationError):
    code = "schedules.name_taken"
    http_status = 409
    message = _("A schedule with this name already exists.")


class ScheduleTaskUnavailableError(ApplicationError):
    """The schedule names a task no installed app offers any more."""

    code = "schedules.task_unavailable"
    http_status = 409
    message = _("The task of this schedule is no longer available.")
