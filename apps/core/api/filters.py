from datetime import date

from django import forms
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field


class _NonEmptyMixin:
    # An absent parameter arrives as None and means "no filter"; a present but empty one
    # (``?status=``) is a value outside the documented enum, and is refused.
    def clean(self, value):
        if value == "":
            raise forms.ValidationError("Choose one of the listed values.", code="invalid_choice")
        return super().clean(value)


class _TrueFalseField(_NonEmptyMixin, forms.TypedChoiceField):
    pass


class _NonEmptyChoiceField(_NonEmptyMixin, filter_fields.ChoiceField):
    pass


class StrictChoiceFilter(filters.ChoiceFilter):
    """A choice filter that refuses ``?name=`` instead of ignoring it."""

    field_class = _NonEmptyChoiceField


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """``?flag=true|false``; anything else is a 400 (django-filter's default boolean filter
    quietly ignores values it does not understand)."""

    field_class = _TrueFalseField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class _NonEmptyUUIDField(forms.UUIDField):
    # ``?zone=`` is not "no filter" but a value outside the documented uuid format.
    def clean(self, value: object) -> object:
        if value == "":
            raise forms.ValidationError("Must be a valid UUID.", code="invalid")
        return super().clean(value)


class StrictUUIDFilter(filters.UUIDFilter):
    """A uuid filter that refuses ``?name=`` instead of ignoring it."""

    field_class = _NonEmptyUUIDField


class _NonEmptyCharField(forms.CharField):
    def clean(self, value: object) -> object:
        if value == "":
            raise forms.ValidationError("Must not be empty.", code="invalid")
        return super().clean(value)


class StrictCharFilter(filters.CharFilter):
    """A text filter that refuses ``?name=`` instead of ignoring it."""

    field_class = _NonEmptyCharField


# Dates a filter may name: wide enough for any record, narrow enough that date arithmetic
# on them never overflows.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


class _NonEmptyDateField(forms.DateField):
    def clean(self, value: object) -> object:
        if value == "":
            raise forms.ValidationError("Enter a valid date.", code="invalid")
        value = super().clean(value)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise forms.ValidationError(f"From {EARLIEST_DATE} to {LATEST_DATE}.", code="invalid")
        return value


class StrictDateFilter(filters.DateFilter):
    """A date filter that refuses ``?name=`` and dates outside EARLIEST..LATEST_DATE."""

    field_class = _NonEmptyDateField
