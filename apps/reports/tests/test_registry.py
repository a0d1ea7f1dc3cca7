"""The registry: declarations, their checks, and what GET /reports/ says about parameters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer
from apps.reports import registry
from apps.reports.registry import report


def _generate(*, actor, params, output) -> int:
    return 0


def _other_generate(*, actor, params, output) -> int:
    return 0


@pytest.fixture
def declared() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        registry.unregister(name)


def test_builtin_reports_are_registered():
    reports = {item.name: item for item in registry.report_all()}

    assert (reports["users"].format, reports["users"].permission) == ("xlsx", "accounts.view_user")
    assert (reports["audit-log"].format, reports["audit-log"].permission) == (
        "xlsx",
        "auditlog.view_logentry",
    )
    assert (reports["users-pdf"].format, reports["users-pdf"].permission) == (
        "pdf",
        "accounts.view_user",
    )


def test_a_declared_report_is_found_by_name(declared):
    declared.append("test-widgets")

    report(name="test-widgets", title="Widgets", permission="reports.view_reportrun")(_generate)

    found = registry.report_lookup("test-widgets")
    assert (found.title, found.format, found.generate) == ("Widgets", "xlsx", _generate)
    assert found.parameters is registry.NoParameters


def test_declaring_the_same_generator_twice_is_harmless(declared):
    declared.append("test-twice")

    for _ in range(2):
        report(name="test-twice", title="Twice", permission="reports.view_reportrun")(_generate)

    assert registry.report_lookup("test-twice").generate is _generate


def test_two_reports_of_one_name_are_refused(declared):
    declared.append("test-clash")
    report(name="test-clash", title="A", permission="reports.view_reportrun")(_generate)

    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        report(name="test-clash", title="B", permission="reports.view_reportrun")(_other_generate)

    assert registry.report_lookup("test-clash").generate is _generate


class _LooseParameters(serializers.Serializer):
    day = serializers.DateField()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "Not A Slug"}, "lowercase slug"),
        ({"name": "runs"}, "lowercase slug"),
        ({"format": "csv"}, "format"),
        ({"permission": "view_user"}, "permission"),
        ({"parameters": _LooseParameters}, "StrictSerializer"),
    ],
    ids=["name", "reserved-name", "format", "permission", "parameters"],
)
def test_bad_declarations_are_refused(options, message):
    declaration = {"name": "test-bad", "title": "Bad", "permission": "reports.view_reportrun"}

    with pytest.raises(ImproperlyConfigured, match=message):
        report(**{**declaration, **options})(_generate)

    assert registry.report_lookup(declaration["name"]) is None


class _Parameters(StrictSerializer):
    day = serializers.DateField(help_text="The day.")
    limit = serializers.IntegerField(required=False, default=10, min_value=1)
    colour = serializers.ChoiceField(choices=["red", "blue"], required=False)
    note = serializers.CharField(label="A note", required=False)


def test_parameters_are_described_for_clients(declared):
    declared.append("test-described")

    report(
        name="test-described",
        title="Described",
        permission="reports.view_reportrun",
        parameters=_Parameters,
    )(_generate)

    assert registry.report_lookup("test-described").parameters_describe() == [
        {
            "name": "day",
            "type": "date",
            "required": True,
            "label": "Day",
            "help_text": "The day.",
            "choices": [],
            "default": None,
        },
        {
            "name": "limit",
            "type": "integer",
            "required": False,
            "label": "Limit",
            "help_text": "",
            "choices": [],
            "default": 10,
        },
        {
            "name": "colour",
            "type": "choice",
            "required": False,
            "label": "Colour",
            "help_text": "",
            "choices": ["red", "blue"],
            "default": None,
        },
        {
            "name": "note",
            "type": "string",
            "required": False,
            "label": "A note",
            "help_text": "",
            "choices": [],
            "default": None,
        },
    ]
