from __future__ import annotations

from typing import Any

from rest_framework import serializers


def _type_errors(field: serializers.Field, value: Any) -> list[str]:
    """DRF coerces 12 into "12" for text fields; a typed API should refuse it instead."""
    is_text_field = isinstance(field, serializers.CharField)
    if is_text_field and value is not None and not isinstance(value, str):
        return ["Must be a string."]
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        for item in value:
            errors = _type_errors(field.child, item)
            if errors:
                return errors
    return []


class StrictSerializer(serializers.Serializer):
    """Request bodies: unknown fields and wrongly typed values are errors.

    A client that misspells ``permisions`` should hear about it instead of seeing a
    request "succeed" without the change it meant. The OpenAPI document says the same
    (``additionalProperties: false``, see apps.core.api.schema).
    """

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        errors = {name: ["Unknown field."] for name in sorted(set(data) - set(self.fields))}
        for name, field in self.fields.items():
            if name in data and not field.read_only:
                type_errors = _type_errors(field, data[name])
                if type_errors:
                    errors[name] = type_errors
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
