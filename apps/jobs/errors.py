from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError


class TransientError(ApplicationError):
    """A failure worth retrying: a network blip, a provider's 5xx, a lock timeout."""

    code = "jobs.transient"
    http_status = 503
    message = _("A temporary failure; the job will be retried.")


class JobCancelledError(ApplicationError):
    code = "jobs.cancelled"
    http_status = 409
    message = _("The job was cancelled.")


class JobFinishedError(ApplicationError):
    code = "jobs.already_finished"
    http_status = 409
    message = _("The job has already finished.")


class TenantInactiveError(ApplicationError):
    code = "jobs.tenant_inactive"
    http_status = 409
    message = _("The tenant is not active; its work does not run.")
