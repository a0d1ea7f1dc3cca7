from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError


class UnknownReportError(ApplicationError):
    code = "reports.unknown_report"
    http_status = 404
    message = _("There is no report with this name.")


class LinkInvalidError(ApplicationError):
    """A missing or tampered token, or one made for another run, user or tenant."""

    code = "reports.link_invalid"
    http_status = 403
    message = _("This download link is not valid.")


class LinkExpiredError(ApplicationError):
    code = "reports.link_expired"
    http_status = 410
    message = _("This download link has expired; ask for a new one.")


class ReportNotReadyError(ApplicationError):
    code = "reports.not_ready"
    http_status = 409
    message = _("The report has no file yet.")


class ReportFileGoneError(ApplicationError):
    code = "reports.file_gone"
    http_status = 410
    message = _("The report's file is no longer available.")


class ReportParametersInvalidError(ApplicationError):
    """Raised at generation time when stored parameters no longer validate (the report's
    parameters changed between the request and the run)."""

    code = "reports.invalid_parameters"
    http_status = 400
    message = _("The report's parameters are no longer valid.")
