import django_filters

from api.filters import IntegerFilter, UtcIsoDateTimeFilter
from apps.business.invoicing.models import Invoice, InvoiceKind


class InvoiceFilter(django_filters.FilterSet):
    # A plain number, not a choice checked against every order: an id that is not yours
    # must answer like one that does not exist.
    order = IntegerFilter(field_name="order", label="The order's id")
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)
    issued_after = UtcIsoDateTimeFilter(field_name="issued_at", lookup_expr="gte")
    issued_before = UtcIsoDateTimeFilter(field_name="issued_at", lookup_expr="lt")

    class Meta:
        model = Invoice
        fields = ("order", "kind")
