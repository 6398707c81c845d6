"""Payment gateways behind one small interface (docs/development, "Layout").

A gateway knows nothing of orders or tickets: it takes plain values (an amount in minor units,
a currency, the order's reference) and returns plain values. ``apps.business.payments`` maps
them onto its models. ``sandbox`` is the embedded default; Stripe and PayPal implement the same
protocol.
"""

from .base import (
    EventKind,
    GatewayError,
    GatewayTransaction,
    PaymentGateway,
    PaymentOutcome,
    PaymentRequest,
    PaymentResult,
    RefundOutcome,
    RefundResult,
    TransactionKind,
    TransactionStatus,
    WebhookEvent,
    WebhookRejected,
)
from .registry import enabled_gateways, get_gateway

__all__ = [
    "EventKind",
    "GatewayError",
    "GatewayTransaction",
    "PaymentGateway",
    "PaymentOutcome",
    "PaymentRequest",
    "PaymentResult",
    "RefundOutcome",
    "RefundResult",
    "TransactionKind",
    "TransactionStatus",
    "WebhookEvent",
    "WebhookRejected",
    "enabled_gateways",
    "get_gateway",
]
