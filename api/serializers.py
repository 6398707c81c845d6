"""Serializer bases for every module."""

import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
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
_MUST_BE_A_LIST = gettext_lazy("Must be a list.")


def _json_type_error(field: serializers.Field, value: Any) -> ErrorDetail | None:
    """Why ``value`` (from a JSON body) is not of the JSON type ``field`` takes, if it is not."""
    if value is None or field.read_only:
        return None  # ``null`` is for allow_null to judge
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        errors = (_json_type_error(field.child, item) for item in value)
        return next((error for error in errors if error is not None), None)
    if isinstance(field, serializers.ManyRelatedField):  # ``many=True`` ids: a list of them
        if not isinstance(value, list):
            return ErrorDetail(str(_MUST_BE_A_LIST), code="incorrect_type")
        errors = (_json_type_error(field.child_relation, item) for item in value)
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


NUL_NOT_ALLOWED = gettext_lazy("Null characters are not allowed.")


def holds_nul(value: Any) -> bool:
    """A NUL in a string (or a list of them): no text column can store it, and no lookup
    (a slug, a code) can find it."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


# The earliest moment a date-time of the park may name: no reading, weighing or move of the
# park is older, and one that is, is a typo.
EARLIEST_DATETIME = datetime(1900, 1, 1, tzinfo=UTC)


@extend_schema_field(
    {"type": "string", "format": "date-time", "pattern": r"^(19|[2-9][0-9])[0-9]{2}-"}
)
class DateTimeField(serializers.DateTimeField):
    """A date-time from 1900 on (``EARLIEST_DATETIME``), written in the park's time zone, or
    in UTC where that zone's offset then had seconds (local mean time: Costa Rica's was
    -05:36:13 until 1921), which RFC 3339 cannot write."""

    default_error_messages = {
        "too_early": gettext_lazy("Date-times before 1900 are not accepted."),
    }

    def to_internal_value(self, value: Any) -> datetime:
        moment = super().to_internal_value(value)
        if moment < EARLIEST_DATETIME:
            self.fail("too_early")
        return moment

    def enforce_timezone(self, value: datetime) -> datetime:
        moment = super().enforce_timezone(value)
        offset = moment.utcoffset()
        if offset is not None and offset.total_seconds() % 60:
            return moment.astimezone(UTC)
        return moment


class MoneyField(serializers.DecimalField):
    """An amount of money written as the schema says: ASCII digits, an optional point and at
    most ``decimal_places`` decimals ("2900.00", "12.5"); no exponent, no spaces, no other
    scripts' digits, which Python's ``Decimal`` would otherwise take."""

    default_error_messages = {
        "invalid": gettext_lazy("A valid number is required, written like 2900.00."),
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", data):
            self.fail("invalid")
        return super().to_internal_value(data)


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
            # The schema's maxLength counts what the client sent; DRF counts after trimming
            # whitespace (which, to Python, includes control characters such as \x1e).
            too_long = {
                key: field.max_length
                for key, value in data.items()
                if isinstance(value, str)
                and isinstance(field := fields[key], serializers.CharField)
                and field.max_length is not None
                and len(value) > field.max_length
            }
            with_nul = sorted(str(key) for key, value in data.items() if holds_nul(value))
            if with_nul:
                raise ValidationError(
                    {
                        key: [ErrorDetail(str(NUL_NOT_ALLOWED), code="null_characters_not_allowed")]
                        for key in with_nul
                    }
                )
        else:
            too_long = {}
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except ValidationError as error:
            if not too_long or not isinstance(error.detail, dict):
                raise
            raise ValidationError({**error.detail, **_too_long_errors(too_long)}) from error
        if too_long:
            raise ValidationError(_too_long_errors(too_long))
        return value


def _too_long_errors(too_long: dict[str, int]) -> dict[str, list[ErrorDetail]]:
    message = serializers.CharField.default_error_messages["max_length"]
    return {
        key: [ErrorDetail(str(message).format(max_length=longest), code="max_length")]
        for key, longest in too_long.items()
    }


class InputSerializer(StrictFieldsMixin, serializers.Serializer):
    """Base of input serializers: validates what a client sends to a service."""


class ModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Base of model serializers of catalogue resources."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
    }


@functools.cache
def _built(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    return serializer_class()


def represent(serializer_class: type[serializers.Serializer], instance: Any) -> dict[str, Any]:
    """``serializer_class(instance).data``, with the serializer's fields built once per process.

    DRF builds a serializer's fields anew for every serializer it creates: for a model
    serializer with nested ones (an order with its lines, payments and their refunds) that
    costs more than writing the answer (docs/adr/0053). Writing an answer reads the fields
    and changes none of them, so one built serializer serves every request and thread. Only
    for answers that need no context (no request in the fields: no hyperlinks, no fields that
    depend on the user)."""
    return _built(serializer_class).to_representation(instance)
