"""Filter pieces shared by every module."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters_backends
from django_filters.fields import IsoDateTimeField
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
        return super().filter_queryset(request, queryset, view)
