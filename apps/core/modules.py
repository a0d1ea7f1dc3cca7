"""Module switches: a module's routes exist for a tenant only while its switch is on."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from apps.core.api.errors import error_response


def module_enabled(request: HttpRequest, module: str) -> bool:
    return module in getattr(request, "tenant_modules", frozenset())


def _gate(view: Callable[..., HttpResponse], module: str) -> Callable[..., HttpResponse]:
    @wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not module_enabled(request, module):
            # Same answer as an unknown route: a switched-off module does not exist.
            return error_response(status=404, code="not_found", message="Not found.")
        return view(request, *args, **kwargs)

    return gated


def _gate_patterns(patterns: list[Any], module: str) -> list[Any]:
    gated: list[Any] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _gate_patterns(pattern.url_patterns, module)
            gated.append(pattern)
        elif isinstance(pattern, URLPattern):
            pattern.callback = _gate(pattern.callback, module)
            gated.append(pattern)
    return gated


def module_path(route: str, module: str, urlconf: str) -> URLResolver:
    """``path(route, include(urlconf))`` whose every view answers 404 unless ``module`` is on."""
    resolver = path(route, include(urlconf))
    _gate_patterns(resolver.url_patterns, module)
    return resolver
