"""DRF's EXCEPTION_HANDLER: every error leaves the API in the one shape."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework_simplejwt.exceptions import InvalidToken

from apps.core.api.errors import error_body
from apps.core.errors import ApplicationError

logger = logging.getLogger("tenantry.api")

# Stable codes for DRF's own exceptions; clients branch on these.
_DRF_CODES: dict[type[drf_exceptions.APIException], str] = {
    drf_exceptions.ParseError: "malformed_request",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "throttled",
}


def _flatten_fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for name, value in detail.items():
            if isinstance(value, dict):
                for sub_name, messages in _flatten_fields(value).items():
                    fields[f"{name}.{sub_name}"] = messages
            elif isinstance(value, list):
                flat: list[str] = []
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        for sub_name, messages in _flatten_fields(item).items():
                            fields[f"{name}.{index}.{sub_name}"] = messages
                    else:
                        flat.append(str(item))
                if flat:
                    fields[name] = flat
            else:
                fields[name] = [str(value)]
        return fields
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}

    if isinstance(exc, ApplicationError):
        body = error_body(code=exc.code, message=exc.message, details=_jsonable(exc.details))
        return Response(body, status=exc.http_status)

    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        body = error_body(code="request_too_large", message="The request body is too large.")
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        body = error_body(code="bad_request", message="The request was rejected.")
        return Response(body, status=status.HTTP_400_BAD_REQUEST)

    if isinstance(exc, drf_exceptions.ValidationError):
        body = error_body(
            code="validation_error",
            message="The request contains invalid data.",
            fields=_flatten_fields(exc.detail),
        )
        return Response(body, status=status.HTTP_400_BAD_REQUEST)

    if isinstance(exc, InvalidToken):
        body = error_body(code="token_not_valid", message="The token is invalid or expired.")
        return Response(body, status=status.HTTP_401_UNAUTHORIZED, headers=_auth_header(context))

    if isinstance(exc, drf_exceptions.APIException):
        code = next(
            (code for klass, code in _DRF_CODES.items() if isinstance(exc, klass)),
            "api_error",
        )
        details: dict[str, Any] = {}
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
            details["retry_after_seconds"] = int(exc.wait)
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
            headers.update(_auth_header(context))
        message = exc.detail if isinstance(exc.detail, str) else "The request failed."
        return Response(
            error_body(code=code, message=message, details=details),
            status=exc.status_code,
            headers=headers,
        )

    # Unexpected: log with the schema (the log filter adds it) and answer without internals.
    logger.error("Unhandled API error", exc_info=exc)
    return Response(
        error_body(code="server_error", message="An unexpected error occurred."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _auth_header(context: dict[str, Any]) -> dict[str, str]:
    view = context.get("view")
    request = context.get("request")
    if view is not None and request is not None:
        authenticate_header = view.get_authenticate_header(request)
        if authenticate_header:
            return {"WWW-Authenticate": authenticate_header}
    return {}


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        if isinstance(value, int | float | bool | type(None) | list | dict)
        else str(value)
        for key, value in details.items()
    }
