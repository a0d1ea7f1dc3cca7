from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field


class _TrueFalseField(forms.TypedChoiceField):
    def clean(self, value):
        # ``?flag=`` (present but empty) is neither true nor false: refuse it rather than
        # read it as "no filter".
        if value == "":
            raise forms.ValidationError("Use true or false.", code="invalid_choice")
        return super().clean(value)


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """``?flag=true|false``; anything else is a 400 (django-filter's default boolean filter
    quietly ignores values it does not understand)."""

    field_class = _TrueFalseField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)
