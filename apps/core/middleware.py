"""Request path: hostname -> tenant (cached), one schema switch, fail closed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import set_urlconf

from apps.core import tenancy
from apps.core.api.errors import error_response

logger = logging.getLogger("tenantry.tenancy")


class TenantRoutingMiddleware:
    """First in MIDDLEWARE. Resolves the tenant from the host and switches the schema.

    Unknown, deleted and template hosts answer 404 and never fall through to another
    schema; suspended tenants answer 403 ``tenant_suspended``; a tenant whose last
    migration failed answers 503 until an operator fixes it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Imported lazily: the app registry is not ready when middleware modules load.
        from apps.tenants.selectors import tenant_for_hostname

        tenancy.activate_public()
        hostname = request.get_host().split(":")[0].lower().rstrip(".")
        resolved = tenant_for_hostname(hostname=hostname)
        if resolved is None:
            return error_response(
                status=404, code="tenant_not_found", message="No tenant is served at this host."
            )
        if resolved.status == "suspended":
            return error_response(
                status=403, code="tenant_suspended", message="This tenant is suspended."
            )
        # The template is cloned into every new tenant and must never be served, even if
        # someone points a domain at it.
        if resolved.status != "active" or resolved.kind == "template":
            return error_response(
                status=404, code="tenant_not_found", message="No tenant is served at this host."
            )
        if resolved.migration_failed:
            return error_response(
                status=503,
                code="tenant_unavailable",
                message="This tenant is being repaired. Try again later.",
            )

        tenant = resolved.as_tenant()
        tenant.domain_url = hostname
        request.tenant = tenant
        request.tenant_modules = resolved.modules
        if resolved.is_public:
            request.urlconf = "config.urls_public"
            set_urlconf(request.urlconf)
        else:
            tenancy.activate_tenant(tenant)
        return self.get_response(request)


_API_STATUS_CODES = {
    400: ("bad_request", "The request was rejected."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "The request body is too large."),
    500: ("server_error", "An unexpected error occurred."),
}


class ApiErrorShapeMiddleware:
    """Answers under /api/ that Django (not DRF) produced get the one error shape too:
    unknown routes, CSRF failures, oversized bodies and unhandled exceptions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        content_length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if content_length.isdigit() and limit is not None and int(content_length) > limit:
            return error_response(
                status=413,
                code="request_too_large",
                message="The request body is too large.",
                details={"max_bytes": limit},
            )
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("application/json"):
            code, message = _API_STATUS_CODES.get(
                response.status_code, ("http_error", "The request failed.")
            )
            return error_response(status=response.status_code, code=code, message=message)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        logger.error("Unhandled error on %s", request.path, exc_info=exception)
        return error_response(status=500, code="server_error", message=_API_STATUS_CODES[500][1])
