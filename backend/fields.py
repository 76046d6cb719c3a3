"""Serializer fields stricter than DRF's defaults."""

from __future__ import annotations

import re
from typing import Any

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
