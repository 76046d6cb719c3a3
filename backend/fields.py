"""Serializer fields stricter than DRF's defaults."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF would otherwise accept "5", 5.0 and true as numbers."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDateField(serializers.DateField):
    """A date written YYYY-MM-DD only, as API.md gives dates: DRF's ISO 8601 parsing would
    also take 20260301, 2026-3-1 and week dates (2026-W10-1)."""

    PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def to_internal_value(self, value: Any):
        if isinstance(value, str) and not self.PATTERN.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class StringOnlyMixin:
    """A JSON string only: DRF's character fields would otherwise store 5 as "5"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(StringOnlyMixin, serializers.CharField):
    pass


class StrictEmailField(StringOnlyMixin, serializers.EmailField):
    pass


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false only: DRF would otherwise take "yes", "on", 1 and "0"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictDecimalField(serializers.DecimalField):
    """A JSON number only: DRF would otherwise take "10.5" and true as numbers."""

    def to_internal_value(self, data: Any):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "20:00"}
)
class HourMinuteField(serializers.TimeField):
    """A time of day written HH:MM, as API.md gives it (the schema would otherwise say
    HH:MM:SS, which this field refuses)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)
