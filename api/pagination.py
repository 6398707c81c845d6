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
