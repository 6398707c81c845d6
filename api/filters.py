"""Filter pieces shared by every module."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 with any offset, turned into UTC before it reaches the database.

    Python accepts offsets up to ±23:59 that PostgreSQL refuses (±15:59), and extreme dates
    whose offset pushes them past year 1 or 9999: the first is answered, the second is a clear
    400, never a 500.
    """

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError as error:
            raise forms.ValidationError(_("Date and time out of range."), code="invalid") from error


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` for every date-time filter of the API."""

    field_class = UtcIsoDateTimeField
