"""Filter pieces shared by every module."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters_backends
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.request import Request

from apps.support.common.text import search_key


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


class _BigIntegerField(forms.IntegerField):
    """A whole number a 64-bit column can hold: beyond, 400 (SQLite would overflow: 500)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IntegerFilter(django_filters.NumberFilter):
    """A filter on an integer column: a whole number a 64-bit id can be, else 400
    (``NumberFilter`` reads a decimal, so ``?actor=0.5`` would just match nothing)."""

    field_class = _BigIntegerField


_TRUE, _FALSE = {"true", "1"}, {"false", "0"}


def _boolean_refused(name: str) -> ValidationError:
    return ValidationError({name: [ErrorDetail(gettext("Use true or false."), code="invalid")]})


def boolean_query_parameter(request: Request, name: str) -> bool:
    """A yes/no query parameter read by a view itself: ``true``/``1``, ``false``/``0`` (any
    case), or absent or empty (false); anything else is 400."""
    value = request.query_params.get(name, "").lower()
    if value in _TRUE:
        return True
    if value in _FALSE or value == "":
        return False
    raise _boolean_refused(name)


class AccentInsensitiveSearchFilter(SearchFilter):
    """``?search=`` over a view's ``search_key_field``: a column holding the searchable text
    lower-cased and without accents (``apps.support.common.text.search_key``), so "tiburon"
    finds "Tiburón" on every database. Every word must match."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        field = getattr(view, "search_key_field", None)
        if field is None:
            return super().filter_queryset(request, queryset, view)
        for term in self.get_search_terms(request):
            queryset = queryset.filter(**{f"{field}__contains": search_key(term)})
        return queryset

    def get_search_fields(self, view: Any, request: Request) -> Any:
        if getattr(view, "search_key_field", None):
            return (view.search_key_field,)
        return super().get_search_fields(view, request)


class DjangoFilterBackend(filters_backends.DjangoFilterBackend):
    """django-filter's backend, skipped when the request names none of the view's filters.

    Building the filter set and its form costs about as much as a small query; most list
    requests (the public catalogue's pages) filter nothing.
    """

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = set(filterset_class.base_filters)
        if not any(name in names for name in request.query_params):
            return queryset
        # django-filter reads an unknown spelling of a yes/no filter as "no filter": refuse it.
        for name, filter_ in filterset_class.base_filters.items():
            if isinstance(filter_, django_filters.BooleanFilter):
                for value in request.query_params.getlist(name):
                    if value and value.lower() not in _TRUE | _FALSE:
                        raise _boolean_refused(name)
        return super().filter_queryset(request, queryset, view)
