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
