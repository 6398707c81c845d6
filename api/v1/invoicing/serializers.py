from rest_framework import serializers

from api.serializers import ModelSerializer
from apps.business.invoicing.models import Invoice


def _amount(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, read_only=True, help_text=help_text
    )


class InvoiceLineSerializer(serializers.Serializer):
    """One printed line; its amounts are in the document's currency."""

    description = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(min_value=1, read_only=True)
    unit_price = _amount("Price of one, VAT included.")
    net = _amount("`total` - `tax`.")
    tax = _amount("VAT inside `total`: total - total / (1 + rate), rounded half up to cents.")
    total = _amount("`unit_price` x `quantity`.")


class SellerSerializer(serializers.Serializer):
    legal_name = serializers.CharField(source="seller_legal_name", read_only=True)
    tax_id = serializers.CharField(source="seller_tax_id", read_only=True)
    address = serializers.CharField(source="seller_address", read_only=True)
    email = serializers.EmailField(source="seller_email", read_only=True)


class BuyerSerializer(serializers.Serializer):
    name = serializers.CharField(
        source="buyer_name", read_only=True, help_text="Empty for a counter sale to nobody named."
    )
    email = serializers.CharField(source="buyer_email", read_only=True)
    tax_id = serializers.CharField(source="buyer_tax_id", read_only=True)


class InvoiceSerializer(ModelSerializer):
    """An invoice or a credit note, as issued: every figure and name it prints."""

    order_code = serializers.CharField(source="order.code", read_only=True)
    refers_to_number = serializers.CharField(
        source="refers_to.number",
        read_only=True,
        allow_null=True,
        help_text="A credit note's invoice; null for an invoice.",
    )
    lines = InvoiceLineSerializer(many=True, read_only=True)
    seller = SellerSerializer(source="*", read_only=True)
    buyer = BuyerSerializer(source="*", read_only=True)

    class Meta:
        model = Invoice
        fields = (
            "id",
            "number",
            "kind",
            "order",
            "order_code",
            "refers_to",
            "refers_to_number",
            "issued_at",
            "currency",
            "net",
            "tax",
            "total",
            "tax_rate",
            "lines",
            "seller",
            "buyer",
        )
        read_only_fields = fields
        extra_kwargs = {
            "kind": {"help_text": "`invoice`, or `credit_note`: its amounts are given back."},
            "refers_to": {"help_text": "A credit note's invoice (its id); null for an invoice."},
            "total": {"help_text": "VAT included; positive on both kinds."},
        }
