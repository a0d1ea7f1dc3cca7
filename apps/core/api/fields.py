"""Serializer fields that take JSON values of the documented type only.

DRF's own number and boolean fields also take "12", "1.5", "yes", 0 and 1, and in Python
NaN; the OpenAPI document says ``number`` / ``integer`` / ``boolean``, and a typed client
(or the schema fuzzer) rightly expects anything else to be refused with a 400.
"""

from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only."""

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictFloatField(serializers.FloatField):
    """A finite JSON number (an integer beyond any float, NaN and infinities are refused:
    they would pass range checks)."""

    def to_internal_value(self, data: object) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            value = float(data)
        except OverflowError:
            self.fail("invalid")
        if not math.isfinite(value):
            self.fail("invalid")
        return super().to_internal_value(value)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only ("24" and 24.5 are refused)."""

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """A JSON number read as a Decimal through its text (0.1 stays 0.1)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(str(data))
