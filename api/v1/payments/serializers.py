from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from api.serializers import InputSerializer, MoneyField
from api.v1.payments.lines import OrderLineInput
from apps.business.payments.models import (
    Channel,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    Refund,
    WebhookEvent,
)
from apps.integrations.payments import enabled_gateways
from apps.integrations.payments.sandbox import OUTCOMES

MAX_LINES = 20


class SandboxOptions(InputSerializer):
    outcome = serializers.ChoiceField(
        choices=OUTCOMES,
        default="approve",
        help_text="`approve` (default), `decline`, or `later` (settled by a sandbox webhook).",
    )


class PayInput(InputSerializer):
    gateway = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        help_text=(
            "An online gateway enabled here (`sandbox` by default), or `cash` / `card_present` "
            "recorded by the ticket office at the counter."
        ),
    )
    sandbox = SandboxOptions(required=False, help_text="Test switches of the sandbox gateway.")

    def validate_gateway(self, value: str) -> str:
        counter = value in (PaymentMethod.CASH, PaymentMethod.CARD_PRESENT)
        if not counter and value not in enabled_gateways():
            raise serializers.ValidationError(
                _("%(gateway)s is not enabled here.") % {"gateway": value}, code="unknown_gateway"
            )
        return value


class OrderCreateInput(InputSerializer):
    lines = serializers.ListField(
        child=OrderLineInput(),
        allow_empty=False,
        min_length=1,
        max_length=MAX_LINES,
        help_text="What to buy: each line is of a `kind` sold here (`ticket` by default).",
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        default=Channel.ONLINE,
        help_text="`counter`: a sale at the ticket office (ticket office staff only).",
    )
    email = serializers.EmailField(
        required=False,
        allow_blank=True,
        help_text="Where the tickets go (default: the visitor's own email).",
    )
    pay = PayInput(
        required=False,
        help_text=(
            'Buy in one request: create the order and pay it at once (`{"gateway": '
            '"sandbox"}`, or `cash` / `card_present` at the counter). 201 with the paid order, '
            "202 when the gateway confirms later; when the payment does not go through the error "
            "carries `details.order` (a guest's also `details.guest_token`), the order created, "
            "payable with `pay/` while its hold lasts."
        ),
    )


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ("id", "kind", "description", "unit_price", "quantity", "total", "reference")


class PaymentRefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ("id", "amount", "currency", "status", "scope", "lines", "created_at")


class PaymentSerializer(serializers.ModelSerializer):
    order_code = serializers.CharField(source="order.code", read_only=True)
    refunds = PaymentRefundSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = (
            "id",
            "order",
            "order_code",
            "method",
            "amount",
            "currency",
            "status",
            "gateway_reference",
            "failure_code",
            "failure_message",
            "next_action",
            "created_at",
            "succeeded_at",
            "refunds",
        )


class RefundSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="payment.order_id", read_only=True)

    class Meta:
        model = Refund
        fields = (
            "id",
            "order",
            "payment",
            "amount",
            "currency",
            "status",
            "scope",
            "lines",
            "reason",
            "failure_message",
            "gateway_reference",
            "attempts",
            "created_at",
            "completed_at",
        )


class RefundLineInput(InputSerializer):
    line = serializers.IntegerField(min_value=1, help_text="An order line's `id`.")
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class RefundCreateInput(InputSerializer):
    """`{}` refunds what is left of the whole order; `lines` some of its items; `amount`
    money only."""

    lines = serializers.ListField(
        child=RefundLineInput(), required=False, min_length=1, max_length=MAX_LINES
    )
    amount = MoneyField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Money only, in the order's currency (no finer than its minor unit).",
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "lines" in attrs and "amount" in attrs:
            raise serializers.ValidationError(
                {"amount": [_("Refund either some lines or an amount, not both.")]},
                code="refund_invalid",
            )
        return attrs


class WebhookEventSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="event_type", read_only=True)

    class Meta:
        model = WebhookEvent
        fields = (
            "id",
            "gateway",
            "event_id",
            "type",
            "status",
            "attempts",
            "deliveries",
            "gateway_reference",
            "last_error",
            "received_at",
            "processed_at",
            "next_attempt_at",
        )


class GatewaySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="What `gateway` takes in `orders/{id}/pay/`.")
    public = serializers.DictField(
        help_text="Public settings the front end needs (Stripe's publishable key, PayPal's "
        "client id and environment); never a secret."
    )


class OrderSerializer(serializers.ModelSerializer):
    status = serializers.CharField(
        source="effective_status",
        read_only=True,
        help_text="`expired` as soon as an unpaid hold runs out.",
    )
    lines = OrderLineSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = (
            "id",
            "code",
            "status",
            "channel",
            "email",
            "currency",
            "total",
            "expires_at",
            "paid_at",
            "canceled_at",
            "disputed_at",
            "created_at",
            "lines",
            "payments",
        )


class CancelInput(InputSerializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookAnswer(serializers.Serializer):
    event_id = serializers.CharField()
    status = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {"event_id": instance.event_id, "status": instance.status}


class OrderCreatedSerializer(OrderSerializer):
    guest_token = serializers.CharField(
        read_only=True,
        allow_null=True,
        default=None,
        help_text="A guest's order only (else null): send it as `X-Order-Token` to read or pay "
        "the order. Shown this once; it cannot be recovered.",
    )

    class Meta(OrderSerializer.Meta):
        fields = (*OrderSerializer.Meta.fields, "guest_token")  # type: ignore[assignment]

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["guest_token"] = getattr(instance, "guest_token", "") or None
        return data
