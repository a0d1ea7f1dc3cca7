"""The report registry: a module declares a report once, the platform runs and serves it.

    @report(
        name="users",
        title="Users and roles",
        permission="accounts.view_user",
        parameters=UsersParameters,  # a StrictSerializer; omit for none
        format="xlsx",
    )
    def users_report(*, actor: Actor, params: dict, output: ReportOutput) -> int:
        ...  # write output.path, call output.progress(done, total) now and then
        return rows_written

Reports register at import time: ``apps.reports`` imports its built-in reports and then
every installed app's ``reports.py`` (``autodiscover_modules``) in ``ready()``.

A generator runs inside the tenant's schema, in a worker, as the user who asked for the
report (``actor``), so it reads through the owning app's selectors exactly as an API
would. It writes one file to ``output.path`` and returns how many rows it wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer

FORMATS: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# Path segments of the runs API that a report name would shadow.
RESERVED_NAMES = frozenset({"runs"})
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class NoParameters(StrictSerializer):
    """Parameters of a report that takes none: only ``{}`` is accepted."""


@dataclass(frozen=True)
class ReportOutput:
    """Where a generator writes, and how it reports progress (rows done, rows in total)."""

    path: Path
    progress: Callable[[int, int | None], None] = field(default=lambda done, total: None)


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    permission: str
    parameters: type[serializers.Serializer]
    format: str
    generate: Callable[..., int]
    description: str = ""
    # A business module's report exists only for tenants with that module switched on.
    module: str | None = None

    @property
    def content_type(self) -> str:
        return FORMATS[self.format]

    def parameters_describe(self) -> list[dict[str, Any]]:
        """The parameters as GET /reports/ lists them: name, type, required, help..."""
        return [
            _describe(name, parameter)
            for name, parameter in self.parameters().fields.items()
            if not parameter.read_only
        ]


_FIELD_TYPES: list[tuple[type[serializers.Field], str]] = [
    (serializers.BooleanField, "boolean"),
    (serializers.DateTimeField, "datetime"),
    (serializers.DateField, "date"),
    (serializers.IntegerField, "integer"),
    (serializers.FloatField, "number"),
    (serializers.DecimalField, "number"),
    (serializers.MultipleChoiceField, "choices"),
    (serializers.ChoiceField, "choice"),
    (serializers.ListField, "list"),
    (serializers.UUIDField, "uuid"),
    (serializers.CharField, "string"),
]


def _describe(name: str, parameter: serializers.Field) -> dict[str, Any]:
    kind = next((label for klass, label in _FIELD_TYPES if isinstance(parameter, klass)), "string")
    choices = getattr(parameter, "choices", None) or {}
    default = None if parameter.default is serializers.empty else parameter.default
    return {
        "name": name,
        "type": kind,
        "required": bool(parameter.required),
        "label": str(parameter.label or name.replace("_", " ").capitalize()),
        "help_text": str(parameter.help_text or ""),
        "choices": [str(choice) for choice in choices],
        "default": default() if callable(default) else default,
    }


_reports: dict[str, Report] = {}


def register(report: Report) -> Report:
    """Add ``report`` to the registry; a second, different report of the same name fails."""
    if not _NAME.match(report.name) or report.name in RESERVED_NAMES:
        raise ImproperlyConfigured(f"Report name {report.name!r} is not a lowercase slug.")
    if report.format not in FORMATS:
        raise ImproperlyConfigured(f"Report {report.name!r}: format must be one of {FORMATS}.")
    if not issubclass(report.parameters, StrictSerializer):
        raise ImproperlyConfigured(
            f"Report {report.name!r}: parameters must be a StrictSerializer."
        )
    if "." not in report.permission:
        raise ImproperlyConfigured(f"Report {report.name!r}: permission is '<app>.<codename>'.")
    existing = _reports.get(report.name)
    if existing is not None and _origin(existing) != _origin(report):
        raise ImproperlyConfigured(
            f"Report {report.name!r} is declared twice: {_origin(existing)} and {_origin(report)}."
        )
    _reports[report.name] = report
    return report


def _origin(report: Report) -> str:
    return f"{report.generate.__module__}.{report.generate.__qualname__}"


def report(
    *,
    name: str,
    title: str,
    permission: str,
    parameters: type[serializers.Serializer] = NoParameters,
    format: str = "xlsx",
    description: str = "",
    module: str | None = None,
) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Declare the decorated function as the generator of report ``name``."""

    def decorate(function: Callable[..., int]) -> Callable[..., int]:
        register(
            Report(
                name=name,
                title=title,
                permission=permission,
                parameters=parameters,
                format=format,
                generate=function,
                description=description or (function.__doc__ or "").strip(),
                module=module,
            )
        )
        return function

    return decorate


def unregister(name: str) -> None:
    """For tests that declare a report of their own."""
    _reports.pop(name, None)


def report_lookup(name: str) -> Report | None:
    return _reports.get(name)


def report_all() -> list[Report]:
    return sorted(_reports.values(), key=lambda report: report.name)
