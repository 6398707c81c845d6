import django_filters

from api.filters import IntegerFilter
from apps.business.tickets.models import Ticket


class TicketFilter(django_filters.FilterSet):
    date = django_filters.DateFilter(field_name="slot__date")
    # A plain number, not a choice checked against every order: an id that is not yours
    # must answer like one that does not exist.
    order = IntegerFilter(field_name="order")

    class Meta:
        model = Ticket
        fields = ("order", "slot", "status", "date")
