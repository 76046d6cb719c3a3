"""Serializer building blocks shared by every app's API."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers

from backend.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictDateField,
    StrictDecimalField,
    StrictEmailField,
)


# Reject body fields the serializer does not accept, naming each one. DRF silently drops
# unknown keys; for health data a misspelt field ("scroe") must not quietly store a default
# instead. (A comment, not a docstring: the API schema would show a docstring as the
# description of every serializer built on this.)
class StrictFieldsMixin:
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = {}
            for key in data:
                if key in writable:
                    continue
                known = key in self.fields
                errors[key] = ["This field cannot be changed." if known else "Unknown field."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: StrictDateField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.BooleanField: StrictBooleanField,
        models.DecimalField: StrictDecimalField,
    }
