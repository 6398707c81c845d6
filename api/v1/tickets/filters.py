import django_filters

from apps.business.tickets.models import Ticket


class TicketFilter(django_filters.FilterSet):
    date = django_filters.DateFilter(field_name="slot__date")

    class Meta:
        model = Ticket
        fields = ("order", "slot", "status", "date")
