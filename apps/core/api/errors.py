"""Builds the one error body every non-2xx answer carries."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def error_body(
    *,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    fields: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": str(message),
            "details": details or {},
            "fields": fields or {},
        }
    }


def error_response(*, status: int, code: str, message: str, **kwargs: Any) -> JsonResponse:
    return JsonResponse(error_body(code=code, message=message, **kwargs), status=status)
