"""Serializer bases for every module."""

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

# What a JSON body must carry for a field, as the schema says (DRF alone would also take
# 12 for "12", "1" or 1 for true, "5" for 5). Form and multipart bodies are text anyway.
_JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], Any]] = [
    (serializers.BooleanField, (bool,), gettext_lazy("Must be true or false.")),
    (serializers.IntegerField, (int,), gettext_lazy("Must be an integer.")),
    (serializers.CharField, (str,), gettext_lazy("Must be a string.")),
    (serializers.DecimalField, (str,), gettext_lazy("Must be a string.")),
    (serializers.DateField, (str,), gettext_lazy("Must be a string.")),
    (serializers.DateTimeField, (str,), gettext_lazy("Must be a string.")),
    (serializers.TimeField, (str,), gettext_lazy("Must be a string.")),
]
_INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField)


def _json_type_error(field: serializers.Field, value: Any) -> ErrorDetail | None:
    """Why ``value`` (from a JSON body) is not of the JSON type ``field`` takes, if it is not."""
    if value is None or field.read_only:
        return None  # ``null`` is for allow_null to judge
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        errors = (_json_type_error(field.child, item) for item in value)
        return next((error for error in errors if error is not None), None)
    if isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None:
        queryset = field.get_queryset()
        if queryset is not None and isinstance(queryset.model._meta.pk, _INTEGER_KEYS):
            field = serializers.IntegerField()
    for field_class, types, message in _JSON_TYPES:
        if isinstance(field, field_class):
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                return ErrorDetail(str(message), code="incorrect_type")
            return None
    return None


class StrictFieldsMixin:
    """Rejects keys the serializer does not know, instead of silently dropping them, and, in a
    JSON body, values of another JSON type than the field's.

    A typo in a field name (``"capacty": 60``) must not pass as a successful write. Read-only
    fields a client echoes back are known fields and are ignored, as DRF does.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            fields = self.fields  # type: ignore[attr-defined]
            unknown = sorted(str(key) for key in data if key not in fields)
            if unknown:
                raise ValidationError(
                    {
                        key: [ErrorDetail(_("Unknown field."), code="unknown_field")]
                        for key in unknown
                    }
                )
            if not isinstance(data, QueryDict):
                wrong = {
                    key: error
                    for key, value in data.items()
                    if (error := _json_type_error(fields[key], value)) is not None
                }
                if wrong:
                    raise ValidationError({key: [error] for key, error in wrong.items()})
        return super().to_internal_value(data)  # type: ignore[misc]


class InputSerializer(StrictFieldsMixin, serializers.Serializer):
    """Base of input serializers: validates what a client sends to a service."""


class ModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Base of model serializers of catalogue resources."""
