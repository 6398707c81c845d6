from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class StandardPagination(PageNumberPagination):
    """Every list: ``{count, next, previous, results}``; ``page_size`` from 1, up to 100 (a
    larger one is capped). A ``page_size`` that is not a whole number from 1 up is refused
    rather than ignored; sent empty, it counts as not sent."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        value = request.query_params.get(self.page_size_query_param, "")
        if value == "":
            return self.page_size  # type: ignore[return-value]
        try:
            size = int(value)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        ErrorDetail(_("A whole number from 1 up."), code="invalid")
                    ]
                }
            )
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters


class KnownCount:
    """A queryset whose number of rows is already known (a running total kept on a row), so
    that paginating it runs no ``COUNT(*)`` over what may be many thousand rows. Slices come
    from the queryset; the count is trusted as given."""

    ordered = True

    def __init__(self, queryset: Any, count: int) -> None:
        self.queryset, self._count = queryset, count

    def count(self) -> int:
        return self._count

    def __getitem__(self, key: Any) -> Any:
        return self.queryset[key]


class ReadPage:
    """A page of rows already read, from row ``start`` on, with the number of rows in all (a
    window count read in the same query), for the paginator: it asks for the count, then for
    the page's slice, which is the rows read. Only the page that was read can be asked for."""

    ordered = True

    def __init__(self, rows: list[Any], count: int, *, start: int) -> None:
        self.rows, self._count, self.start = rows, count, start

    def count(self) -> int:
        return self._count

    def __getitem__(self, key: slice) -> list[Any]:
        if key.start != self.start:
            raise IndexError(f"only rows from {self.start} were read, not from {key.start}")
        return self.rows[: key.stop - key.start]
