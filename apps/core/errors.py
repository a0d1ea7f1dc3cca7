"""Domain errors. Every error a client can see has a stable ``code``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    code: str = "application_error"
    http_status: int = 400
    message: str = _("The request could not be completed.")

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.message = str(message or self.message)
        self.details = details
        super().__init__(self.message)


class TenantContextMissingError(ApplicationError):
    """Raised whenever tenant-scoped code runs without a tenant: it never falls back."""

    code = "tenant_context_missing"
    http_status = 500
    message = _("This operation needs a tenant and none is set.")


class NotFoundError(ApplicationError):
    code = "not_found"
    http_status = 404
    message = _("Not found.")


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    http_status = 403
    message = _("You do not have permission to perform this action.")


class ConflictError(ApplicationError):
    code = "conflict"
    http_status = 409
    message = _("The request conflicts with the current state.")


class ThrottledError(ApplicationError):
    code = "throttled"
    http_status = 429
    message = _("Too many attempts. Try again later.")
