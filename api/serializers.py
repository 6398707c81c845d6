"""Serializer bases for every module."""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError


class StrictFieldsMixin:
    """Rejects keys the serializer does not know, instead of silently dropping them.

    A typo in a field name (``"capacty": 60``) must not pass as a successful write. Read-only
    fields a client echoes back are known fields and are ignored, as DRF does.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = set(self.fields)  # type: ignore[attr-defined]
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise ValidationError(
                    {
                        key: [ErrorDetail(_("Unknown field."), code="unknown_field")]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class InputSerializer(StrictFieldsMixin, serializers.Serializer):
    """Base of input serializers: validates what a client sends to a service."""


class ModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Base of model serializers of catalogue resources."""
