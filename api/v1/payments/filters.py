import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from api.filters import IntegerFilter, UtcIsoDateTimeFilter
from apps.business.payments.models import Order, OrderStatus, Payment, Refund, WebhookEvent


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=OrderStatus.choices,
        method="filter_status",
        label="Status as shown: an unpaid order whose hold ran out is expired",
    )
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ("status", "channel", "code")

    def filter_status(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        now = timezone.now()
        if value == OrderStatus.PENDING:
            return queryset.filter(status=OrderStatus.PENDING, expires_at__gt=now)
        if value == OrderStatus.EXPIRED:
            return queryset.filter(
                Q(status=OrderStatus.EXPIRED) | Q(status=OrderStatus.PENDING, expires_at__lte=now)
            )
        return queryset.filter(status=value)


class PaymentFilter(django_filters.FilterSet):
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Payment
        fields = ("status", "method", "order", "gateway_reference")


class RefundFilter(django_filters.FilterSet):
    order = IntegerFilter(field_name="payment__order")
    payment = IntegerFilter(field_name="payment")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Refund
        fields = ("status", "scope")


class WebhookEventFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(field_name="event_type")
    received_after = UtcIsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = UtcIsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = WebhookEvent
        fields = ("gateway", "event_id", "status", "type", "gateway_reference")
